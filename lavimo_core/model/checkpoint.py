"""Checkpoint folders: safetensors for tensors, JSON for everything else; no pickle anywhere.

A model checkpoint folder holds
  model.safetensors   weights (incl. the motion normaliser's mean/std as buffers)
  config.json         the full LavimoConfig
  checkpoint.json     format version, text model reference (name + weights sha256), backbone width,
                      video featurizer version, calibration, training summary
Training adds a `resume/` folder (latest weights + AdamW state flattened to tensors + JSON) so an
interrupted run continues where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write, write_atomic
from .config import LavimoConfig
from .ensemble import Ensemble, build_model
from .errors import CheckpointError, ConfigError
from .lavimo import Lavimo
from .text_backbone import file_sha256

FORMAT = "lavimo-checkpoint"
VERSION = 1
WEIGHTS, CONFIG, META = "model.safetensors", "config.json", "checkpoint.json"
RESUME_DIR = "resume"
AVERAGED = "averaged.safetensors"   # in resume/: the weight average of a run with train.ema_decay


def save_checkpoint(folder: str | Path, model: Lavimo | Ensemble, config: LavimoConfig, meta: dict[str, Any]) -> Path:
    """Write model weights, config and metadata into `folder` (each file atomically); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _save_tensors(folder / WEIGHTS, _module_state(model))
    config.save(folder / CONFIG)
    write_atomic(folder / META, _json({"format": FORMAT, "version": VERSION, "text_dim": model.text_dim, **meta}))
    return folder


def update_meta(folder: str | Path, **entries: Any) -> None:
    """Replace top-level entries of a checkpoint's checkpoint.json (atomically), keeping the rest."""
    path = Path(folder) / META
    write_atomic(path, _json(read_json(path) | entries))


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu") -> tuple[Lavimo | Ensemble, LavimoConfig,
                                                                                dict[str, Any]]:
    """Rebuild the model from a checkpoint folder (eval mode); raises CheckpointError saying what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        hint = " (pass the folder, not a file inside it)" if folder.is_file() else ""
        raise CheckpointError(f"checkpoint {folder} is not a folder{hint}; train one with `lavimo train --out DIR`.")
    missing = [n for n in (WEIGHTS, CONFIG, META) if not (folder / n).is_file()]
    if missing:
        raise CheckpointError(f"checkpoint {folder} lacks {', '.join(missing)}; it is incomplete (was training "
                              "interrupted before the first checkpoint?). Retrain or copy the whole folder again.")
    meta = read_json(folder / META)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"{folder / META}: not a LAVIMO checkpoint of version {VERSION} "
                              f"(format={meta.get('format')!r}, version={meta.get('version')!r}); retrain it with this version.")
    try:
        config = LavimoConfig.load(folder / CONFIG)
    except ConfigError as exc:
        raise CheckpointError(f"checkpoint config is invalid: {exc}") from None
    model = build_model(config.model, int(meta["text_dim"]))
    state = _load_tensors(folder / WEIGHTS)
    _load_module_state(model, state, folder / WEIGHTS)
    return model.to(device).eval(), config, meta


def weights_sha256(folder: str | Path) -> str:
    """sha256 of the checkpoint's weights file (identifies the exact model, e.g. for a store)."""
    return file_sha256(Path(folder) / WEIGHTS)


def save_train_state(folder: str | Path, model: Lavimo, optimizer: torch.optim.Optimizer, state: dict[str, Any],
                     averaged: torch.nn.Module | None = None) -> None:
    """Save what resuming needs in folder/resume/: latest weights, AdamW moments, weight average, counters."""
    out = Path(folder) / RESUME_DIR
    out.mkdir(parents=True, exist_ok=True)
    opt = optimizer.state_dict()
    tensors, layout = {}, {}
    for idx, entries in opt["state"].items():
        layout[str(idx)] = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{idx}.{name}"] = value.detach().reshape(-1).clone() if value.ndim == 0 else value.detach()
                layout[str(idx)][name] = "scalar" if value.ndim == 0 else "tensor"
            else:
                layout[str(idx)][name] = value
    _save_tensors(out / "optimizer.safetensors", tensors)
    _save_tensors(out / WEIGHTS, _module_state(model))
    if averaged is not None:   # unwrapped: the averaged copy's weights and how many steps it has seen
        _save_tensors(out / AVERAGED, _tensors(averaged))
    write_atomic(out / "state.json", _json({**state, "optimizer": {"param_groups": opt["param_groups"], "layout": layout}}))


def load_train_state(folder: str | Path, model: Lavimo, optimizer: torch.optim.Optimizer,
                     averaged: torch.nn.Module | None = None) -> dict[str, Any] | None:
    """Restore weights, optimizer and weight average from folder/resume/; None when there is none."""
    out = Path(folder) / RESUME_DIR
    if not (out / "state.json").is_file():
        return None
    state = read_json(out / "state.json")
    tensors = _load_tensors(out / "optimizer.safetensors")
    _load_module_state(model, _load_tensors(out / WEIGHTS), out / WEIGHTS)
    if averaged is not None:
        _load_module_state(averaged, _load_tensors(out / AVERAGED), out / AVERAGED)
    opt_state: dict[int, dict[str, Any]] = {}
    for idx, entries in state["optimizer"]["layout"].items():
        opt_state[int(idx)] = {}
        for name, kind in entries.items():
            if kind == "scalar":
                opt_state[int(idx)][name] = tensors[f"{idx}.{name}"].reshape(())
            elif kind == "tensor":
                opt_state[int(idx)][name] = tensors[f"{idx}.{name}"]
            else:
                opt_state[int(idx)][name] = kind
    try:
        optimizer.load_state_dict({"state": opt_state, "param_groups": state["optimizer"]["param_groups"]})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{out}: the saved optimizer state does not fit this model ({exc}); "
                              "delete the resume/ folder to start over.") from None
    return state


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object, raising CheckpointError naming the file when it is missing or broken."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the checkpoint is corrupt, retrain or re-copy it.") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data


def _module_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # DDP wraps the model as .module; checkpoints always hold the bare model's names.
    return _tensors(getattr(model, "module", model))


def _tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def _load_module_state(model: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(f"{what}: {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
                           for what, keys in (("missing", missing), ("unexpected", unexpected),
                                              ("wrong shape", wrong)) if keys)
        raise CheckpointError(f"{path} does not match its config.json ({detail}); the files come from "
                              "different models. Copy the whole checkpoint folder from one training run.")
    model.load_state_dict(state)


def _save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file
    with atomic_write(path) as tmp:
        save_file(tensors, str(tmp))


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}); "
                              "the checkpoint is corrupt, retrain or re-copy it.") from None
