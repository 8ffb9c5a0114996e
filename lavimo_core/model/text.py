"""Text encoder head: frozen backbone token features -> trainable transformer with a CLS token -> embedding."""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import ClsSequenceEncoder
from .text_backbone import mean_pool


class TextEncoder(nn.Module):
    """Token features (B, L, backbone_dim) + mask -> text embedding (B, latent_dim), not yet normalised."""

    def __init__(self, cfg: ModelConfig, backbone_dim: int):
        super().__init__()
        # The backbone already encodes word order, so the head adds no positions of its own.
        self.encoder = ClsSequenceEncoder(cfg, backbone_dim, cfg.text_layers, positions=False)
        self.out = nn.Linear(cfg.hidden_dim, cfg.latent_dim)
        self.pool_skip = nn.Linear(backbone_dim, cfg.latent_dim) if cfg.text_pool_skip else None

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (embedding (B, latent), hidden tokens (B, 1+L, H), token mask (B, 1+L))."""
        cls, hidden, valid = self.encoder(tokens, mask)
        z = self.out(cls)
        if self.pool_skip is not None:
            z = z + self.pool_skip(mean_pool(tokens, mask))
        return z, hidden, valid
