"""The LAVIMO model: text, motion and video encoders into one space, fusion, and a motion decoder.

Retrieval uses only the three encoders (cosine of L2-normalised embeddings). Fusion and the decoder
exist for training (paper Fig. 2): the motion embedding queries all three modalities, and the fused
vector must reconstruct the motion. The motion normaliser's statistics live in the model as buffers,
so the weights file alone turns raw 263-dim features into embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import LossConfig, ModelConfig
from .decoder import MotionDecoder
from .errors import InputShapeError
from .fusion import Fusion
from .losses import embedding_similarity_loss, kl_alignment, reconstruction_loss
from .motion import MotionEncoder
from .text import TextEncoder
from .video import VideoEncoder


@dataclass
class Batch:
    """One training batch. Motion features are raw (the model normalises them)."""

    motion: torch.Tensor            # (B, T, 263) raw HumanML3D features
    motion_mask: torch.Tensor       # (B, T) True = real frame
    text: torch.Tensor              # (B, L, backbone_dim) frozen token features
    text_mask: torch.Tensor         # (B, L)
    text_motion_pos: torch.Tensor   # (B, B) bool: text i matches motion j
    motion_motion_pos: torch.Tensor  # (B, B) bool: motion i matches motion j (labels/captions agree)
    video: torch.Tensor | None = None          # (B, Tv, P) pose features
    video_present: torch.Tensor | None = None  # (B, Tv) True = person detected

    def to(self, device: torch.device) -> Batch:
        """The same batch on `device`."""
        return Batch(**{k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()})


class Lavimo(nn.Module):
    """Tri-modal joint embedding (or the bi-modal ablation when cfg.use_video is False)."""

    def __init__(self, cfg: ModelConfig, text_dim: int):
        super().__init__()
        self.cfg = cfg
        self.text_dim = text_dim
        self.register_buffer("motion_mean", torch.zeros(cfg.motion_feature_dim))
        self.register_buffer("motion_std", torch.ones(cfg.motion_feature_dim))
        self.text_encoder = TextEncoder(cfg, text_dim)
        self.motion_encoder = MotionEncoder(cfg)
        self.video_encoder = VideoEncoder(cfg) if cfg.use_video else None
        self.fusion = Fusion(cfg) if cfg.use_fusion else None
        self.decoder = MotionDecoder(cfg) if cfg.use_decoder else None
        self.decoder_in = None if cfg.use_fusion or not cfg.use_decoder else nn.Linear(cfg.latent_dim, cfg.hidden_dim)

    @property
    def embedding_dim(self) -> int:
        """Size of the unit vectors retrieval compares."""
        return int(self.cfg.latent_dim)

    @property
    def has_video(self) -> bool:
        """Whether the model embeds videos (False for the bi-modal ablation)."""
        return self.video_encoder is not None

    def set_normalizer(self, mean, std) -> None:
        """Store the motion normaliser's statistics (fitted on the training split)."""
        self.motion_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.motion_std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def normalize_motion(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw (…, 263) features -> normalised."""
        return (raw - self.motion_mean) / self.motion_std

    def encode_motion(self, raw: torch.Tensor, mask: torch.Tensor, tokens: bool = False):
        """Raw motion features (B, T, 263) -> embedding (B, latent) [, (tokens, mask)]."""
        _check_dim(raw, self.cfg.motion_feature_dim, "motion features")
        z, h, valid = self.motion_encoder(self.normalize_motion(raw), mask)
        return (z, (h, valid)) if tokens else z

    def encode_text(self, features: torch.Tensor, mask: torch.Tensor, tokens: bool = False):
        """Frozen token features (B, L, backbone_dim) -> embedding (B, latent) [, (tokens, mask)]."""
        _check_dim(features, self.text_dim, "text token features")
        z, h, valid = self.text_encoder(features, mask)
        return (z, (h, valid)) if tokens else z

    def encode_video(self, features: torch.Tensor, present: torch.Tensor, tokens: bool = False):
        """Pose features (B, Tv, P) -> embedding (B, latent) [, (tokens, mask)]."""
        if self.video_encoder is None:
            raise InputShapeError("this model was trained without video (bi-modal); it cannot embed videos")
        _check_dim(features, self.cfg.video_feature_dim, "video pose features")
        z, h, valid = self.video_encoder(features, present)
        return (z, (h, valid)) if tokens else z

    def forward(self, batch: Batch, loss_cfg: LossConfig) -> tuple[torch.Tensor, dict[str, float]]:
        """Total training loss and its named parts (floats, for logging)."""
        z_m, tok_m = self.encode_motion(batch.motion, batch.motion_mask, tokens=True)
        z_t, tok_t = self.encode_text(batch.text, batch.text_mask, tokens=True)
        parts: dict[str, torch.Tensor] = {
            "mt": loss_cfg.w_motion_text * kl_alignment(z_t, z_m, batch.text_motion_pos, loss_cfg.tau)}
        if self.video_encoder is not None:
            z_v, tok_v = self.encode_video(batch.video, batch.video_present, tokens=True)
            parts["mv"] = loss_cfg.w_motion_video * kl_alignment(z_v, z_m, batch.motion_motion_pos, loss_cfg.tau)
            parts["tv"] = loss_cfg.w_text_video * kl_alignment(z_t, z_v, batch.text_motion_pos, loss_cfg.tau)
        if self.decoder is not None and loss_cfg.w_recon > 0:
            if self.fusion is not None:
                latent = self.fusion(z_m, {"motion": tok_m, "text": tok_t, "video": tok_v})
            else:
                latent = self.decoder_in(z_m)
            recon = self.decoder(latent, batch.motion_mask)
            target = self.normalize_motion(batch.motion)
            parts["rec"] = loss_cfg.w_recon * reconstruction_loss(recon, target, batch.motion_mask)
        if loss_cfg.w_embed_sim > 0:
            sim = embedding_similarity_loss(z_t, z_m)
            if self.video_encoder is not None:
                sim = sim + embedding_similarity_loss(z_v, z_m)
            parts["sim"] = loss_cfg.w_embed_sim * sim
        total = sum(parts.values())
        return total, {k: float(v.detach()) for k, v in parts.items()}


def normalized(z: torch.Tensor) -> torch.Tensor:
    """L2-normalise embeddings (what retrieval compares)."""
    return F.normalize(z, dim=-1)


def _check_dim(x: torch.Tensor, expected: int, what: str) -> None:
    if x.ndim != 3 or x.shape[-1] != expected:
        raise InputShapeError(f"{what}: expected shape (batch, frames, {expected}), got {tuple(x.shape)}")
