"""Motion decoder: a transformer whose per-frame queries (time codes) attend to one latent vector and
reconstruct the normalised 263-dim motion (TMR/ACTOR style)."""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .layers import SinusoidalPositions


class MotionDecoder(nn.Module):
    """latent (B, hidden_dim), mask (B, T) -> reconstructed normalised features (B, T, 263)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.positions = SinusoidalPositions(cfg.hidden_dim)
        layer = nn.TransformerDecoderLayer(cfg.hidden_dim, cfg.heads, cfg.ff_dim, cfg.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerDecoder(layer, cfg.decoder_layers, norm=nn.LayerNorm(cfg.hidden_dim))
        self.out = nn.Linear(cfg.hidden_dim, cfg.motion_feature_dim)

    def forward(self, latent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Frames outside `mask` are computed but meaningless (the loss masks them)."""
        queries = self.positions.codes(mask.shape[1])[None].expand(mask.shape[0], -1, -1)
        h = self.transformer(queries, latent.unsqueeze(1), tgt_key_padding_mask=~mask)
        return self.out(h)
