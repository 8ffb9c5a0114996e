"""Inference facade: a trained checkpoint -> L2-normalised embeddings of texts, motions and videos.

    emb = Embedder.from_checkpoint("path/to/checkpoint")
    q = emb.embed_text(["a person walks sadly"])          # (1, emb.dim) float32
    m = emb.embed_motion(motions)                          # cosine = q @ m.T
    p = emb.calibration.probability("text", q @ m.T)       # P(match), see calibration.py
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .calibration import Calibration
from .checkpoint import load_checkpoint, weights_sha256
from .encoder_inputs import check_motion_features, motion_features, video_windows
from .ensemble import Ensemble
from .errors import InputShapeError, TextModelError
from .lavimo import Lavimo, normalized
from .padding import pad_sequences
from .windows import average_windows, split_windows

if TYPE_CHECKING:
    from ..motion.motion import Motion
    from ..video.features import VideoFeatures

BATCH = 32


class Embedder:
    """Embeds queries and motions with one trained model; all outputs are float32 (N, dim), unit length."""

    def __init__(self, model: Lavimo | Ensemble, meta: dict, folder: Path, device: str | torch.device = "cpu",
                 window_frames: int = 0):
        self.model = model.eval()
        # Motions longer than the crops seen in training are embedded as overlapping windows of this many
        # frames whose embeddings are averaged (0 = always whole); videos use the same span in seconds.
        self.window_frames = int(window_frames)
        self.meta = meta
        self.folder = folder
        self.device = torch.device(device)
        self.dim = model.embedding_dim
        self.weights_hash = weights_sha256(folder)
        self.model_id = f"lavimo-{meta.get('preset', 'custom')}-{self.weights_hash[:12]}"
        self.calibration = Calibration.from_dict(meta.get("calibration", {}))
        self._backbone = None

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu") -> Embedder:
        """Load a checkpoint folder (raises CheckpointError if incomplete or mismatched)."""
        model, config, meta = load_checkpoint(path, device)
        return cls(model, meta, Path(path), device, window_frames=config.train.crop_max_frames)

    @property
    def has_video(self) -> bool:
        """Whether this model embeds videos (False for the bi-modal ablation)."""
        return self.model.has_video

    def _text_backbone(self):
        if self._backbone is None:
            from .text_backbone import TextBackbone
            ref = self.meta["text_model"]
            backbone = TextBackbone(ref["name"], self.model.cfg.text_max_tokens, self.device)
            if backbone.ref.sha256 != ref["sha256"]:
                raise TextModelError(
                    f"this model was trained with text model {ref['name']!r} whose weights have sha256 "
                    f"{ref['sha256']}, but the one found at {backbone.ref.path} has {backbone.ref.sha256}. "
                    "Provide the same text model (set model.text_model in the checkpoint's config.json to its folder).")
            self._backbone = backbone
        return self._backbone

    @property
    def text_max_tokens(self) -> int:
        """How many tokens of a prompt the text encoder reads; the rest is ignored."""
        return int(self.model.cfg.text_max_tokens)

    def count_text_tokens(self, text: str) -> int:
        """Tokens in `text` as the text model's tokenizer counts them (special tokens included), untruncated."""
        return len(self._text_backbone().tokenizer(str(text), truncation=False)["input_ids"])

    @torch.no_grad()
    def embed_text(self, texts: list[str]) -> np.ndarray:
        """Captions or free-text queries -> (N, dim)."""
        texts = [str(t) for t in texts]
        out = []
        for i in range(0, len(texts), BATCH):
            feats, mask = self._text_backbone().token_features(texts[i:i + BATCH])
            out.append(normalized(self.model.encode_text(feats, mask)))
        return _stack(out, self.dim)

    @torch.no_grad()
    def embed_motion(self, motions: list[Motion]) -> np.ndarray:
        """Canonical motions -> (N, dim); uses Motion.features, computing them from the joints when None."""
        return self.embed_motion_features(motion_features(motions))

    @torch.no_grad()
    def embed_motion_features(self, features: list[np.ndarray]) -> np.ndarray:
        """Raw (un-normalised) HumanML3D features, one (T, 263) array per motion -> (N, dim)."""
        check_motion_features(features, self.model.cfg.motion_feature_dim)
        pieces, owner = split_windows(features, self.window_frames)
        out = []
        for chunk in _chunks(pieces):
            x, mask = _pad(chunk, self.device)
            out.append(normalized(self.model.encode_motion(x, mask)))
        return average_windows(_stack(out, self.dim), owner, len(features))

    @torch.no_grad()
    def embed_video(self, videos: list[VideoFeatures]) -> np.ndarray:
        """Per-frame pose features of videos -> (N, dim); frames without a person are masked out."""
        if not self.has_video:
            raise InputShapeError("this model was trained without video (bi-modal ablation); use a tri-modal checkpoint")
        both, owner = video_windows(videos, self.model.cfg.video_feature_dim, self.window_frames)
        out = []
        for chunk in _chunks(both):
            x, _ = _pad(chunk, self.device)
            out.append(normalized(self.model.encode_video(x[..., :-1], x[..., -1] > 0.5)))
        return average_windows(_stack(out, self.dim), owner, len(videos))


def _chunks(items: list) -> list[list]:
    return [items[i:i + BATCH] for i in range(0, len(items), BATCH)]


def _pad(arrays: list[np.ndarray], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x, mask = pad_sequences(arrays)
    return x.to(device), mask.to(device)


def _stack(chunks: list[torch.Tensor], dim: int) -> np.ndarray:
    if not chunks:
        return np.zeros((0, dim), dtype=np.float32)
    return torch.cat(chunks).cpu().numpy().astype(np.float32)
