"""Video encoder: per-frame pose features -> temporal transformer (paper: 6 layers) with CLS -> embedding.

Frames where no person was detected are masked out of attention (never invented); a clip with no
detected frame at all still yields the CLS embedding, which training teaches to mean "unknown".
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import ClsSequenceEncoder


class VideoEncoder(nn.Module):
    """Pose features (B, T, P), present (B, T) True = person detected -> video embedding (B, latent_dim)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.encoder = ClsSequenceEncoder(cfg, cfg.video_feature_dim, cfg.video_layers)
        self.out = nn.Linear(cfg.hidden_dim, cfg.latent_dim)

    def forward(self, features: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (embedding (B, latent), hidden tokens (B, 1+T, H), token mask (B, 1+T))."""
        # Zero missing frames so whatever a featurizer left there (NaN, stale values) cannot leak in.
        features = torch.where(present.unsqueeze(-1), torch.nan_to_num(features), torch.zeros_like(features))
        cls, hidden, valid = self.encoder(features, present)
        return self.out(cls), hidden, valid
