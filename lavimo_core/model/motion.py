"""Motion encoder: normalised 263-dim HumanML3D features -> transformer with a CLS token -> embedding."""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import ClsSequenceEncoder


class MotionEncoder(nn.Module):
    """Features (B, T, 263), mask (B, T) True = real frame -> motion embedding (B, latent_dim)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.encoder = ClsSequenceEncoder(cfg, cfg.motion_feature_dim, cfg.motion_layers)
        self.out = nn.Linear(cfg.hidden_dim, cfg.latent_dim)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (embedding (B, latent), hidden tokens (B, 1+T, H), token mask (B, 1+T))."""
        cls, hidden, valid = self.encoder(features, mask)
        return self.out(cls), hidden, valid
