"""Train an ensemble (model.members > 1, model/ensemble.py): each member is a whole training run of its own
seed, in `out/members/<i>/`; then their encoders are joined into one checkpoint in `out`, validated and
calibrated as one model, and exported to ONNX.

A member that finished (its checkpoint is calibrated) is reused, so an interrupted ensemble resumes where it
stopped, and a member interrupted mid-run resumes from its own `resume/` folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..model.calibration import fit_calibration
from ..model.checkpoint import META, load_checkpoint, read_json, save_checkpoint
from ..model.config import LavimoConfig
from ..model.ensemble import join_members
from .calibrate import validation_of

MEMBERS_DIR = "members"


def member_run_config(config: LavimoConfig, index: int) -> LavimoConfig:
    """The config of member `index`'s training run: one model, seed train.seed + index."""
    cfg = LavimoConfig.from_dict(config.to_dict())
    cfg.model.members = 1
    cfg.train.seed = config.train.seed + index
    return cfg


def member_folders(out: str | Path, members: int) -> list[Path]:
    """Where the members' runs live."""
    return [Path(out) / MEMBERS_DIR / str(i) for i in range(members)]


def finished(folder: Path) -> bool:
    """Whether a training run in `folder` ended (its final checkpoint carries the calibration fitted at the end)."""
    return (folder / META).is_file() and "calibration" in read_json(folder / META)


def train_ensemble(config: LavimoConfig, out: str | Path, train_one: Callable[..., Path], *,
                   restart: bool = False) -> Path:
    """Train config.model.members runs with `train_one` (loop.train of one model), then join them into `out`."""
    out = Path(out)
    folders = member_folders(out, config.model.members)
    for i, folder in enumerate(folders):
        if restart or not finished(folder):
            train_one(member_run_config(config, i), folder, restart=restart)
    if os.environ.get("RANK", "0") == "0":      # under torchrun every rank trained; one joins
        join(config, folders, out)
    return out


def join(config: LavimoConfig, folders: list[Path], out: Path) -> Path:
    """Join trained single-model checkpoints into one ensemble checkpoint in `out`: validated, calibrated, exported."""
    from ..model.onnx_export import export_onnx
    loaded = [load_checkpoint(f) for f in folders]
    # The members' saved config, not `config`: training resolves sizes left to it (model.video_feature_dim 0).
    config = LavimoConfig.from_dict(loaded[0][1].to_dict())
    config.model.members = len(folders)
    metas = [meta for _, _, meta in loaded]
    ensemble = join_members(config.model, [model for model, _, _ in loaded])
    validator, trained = validation_of(config, progress=config.train.progress)
    metrics = validator.metrics(ensemble)
    calibration = fit_calibration(*validator.calibration_samples(ensemble, trained))
    runs = [m.get("training", {}) for m in metas]
    training = {"best_metrics": metrics, "best_score": validator.score(metrics),
                "best_step": [r.get("best_step") for r in runs], "step": [r.get("step") for r in runs],
                "seconds": sum(r.get("seconds") or 0 for r in runs), "stop_reason": [r.get("stop_reason") for r in runs],
                "threads": runs[0].get("threads"), "device": runs[0].get("device"),
                "members": [{"folder": str(f.relative_to(out)) if f.is_relative_to(out) else str(f), **r}
                            for f, r in zip(folders, runs, strict=True)]}
    meta = {k: metas[0][k] for k in ("preset", "text_model", "dataset", "video") if k in metas[0]}
    save_checkpoint(out, ensemble, config, meta | {"calibration": calibration.to_dict(), "training": training})
    export_onnx(out)
    return out
