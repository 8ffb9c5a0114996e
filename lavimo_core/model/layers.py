"""Building blocks shared by the encoders and the decoder: sinusoidal positions and a transformer stack."""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import ModelConfig


class SinusoidalPositions(nn.Module):
    """Adds fixed sine/cosine position codes (Vaswani et al.), so any sequence length works at inference."""

    def __init__(self, dim: int, max_len: int = 4096):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        table = torch.zeros(max_len, dim)
        table[:, 0::2] = torch.sin(pos * div)
        table[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("table", table, persistent=False)

    def codes(self, length: int) -> torch.Tensor:
        """(length, dim) position codes; lengths beyond the table are extended on the fly."""
        if length > self.table.shape[0]:
            self.table = SinusoidalPositions(self.table.shape[1], 2 * length).table.to(self.table.device)
        return self.table[:length]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, dim) -> x + codes."""
        return x + self.codes(x.shape[1])[None]


def transformer_encoder(cfg: ModelConfig, layers: int) -> nn.TransformerEncoder:
    """A pre-norm transformer encoder stack of `layers` layers sized by `cfg`."""
    layer = nn.TransformerEncoderLayer(cfg.hidden_dim, cfg.heads, cfg.ff_dim, cfg.dropout,
                                       activation="gelu", batch_first=True, norm_first=True)
    # enable_nested_tensor is off: it changes numerics between train and eval and warns with norm_first.
    return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(cfg.hidden_dim), enable_nested_tensor=False)


class ClsSequenceEncoder(nn.Module):
    """Project a masked sequence, prepend a learned CLS token, run a transformer; return (CLS, tokens).

    The common core of the motion, text and video encoders (MotionCLIP/TMR style).
    """

    def __init__(self, cfg: ModelConfig, in_dim: int, layers: int, positions: bool = True):
        super().__init__()
        self.proj = nn.Linear(in_dim, cfg.hidden_dim)
        self.cls = nn.Parameter(torch.randn(1, 1, cfg.hidden_dim) * 0.02)
        self.positions = SinusoidalPositions(cfg.hidden_dim) if positions else None
        self.transformer = transformer_encoder(cfg, layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, in_dim), mask (B, T) True = valid -> cls (B, H), tokens (B, 1+T, H), token mask (B, 1+T)."""
        h = self.proj(x)
        if self.positions is not None:
            h = self.positions(h)
        h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1)
        valid = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        h = self.transformer(h, src_key_padding_mask=~valid)
        return h[:, 0], h, valid
