"""Feature fusion (LAVIMO paper, Fig. 2): the motion embedding queries the motion, text and video tokens.

One multi-head attention per modality, each with the motion embedding as the single query over that
modality's encoder tokens; the three outputs are summed and handed to the motion decoder.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig

MODALITIES = ("motion", "text", "video")


class Fusion(nn.Module):
    """(motion embedding, {modality: (tokens, mask)}) -> fused vector (B, hidden_dim)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.query = nn.Linear(cfg.latent_dim, cfg.hidden_dim)
        self.attend = nn.ModuleDict({
            m: nn.MultiheadAttention(cfg.hidden_dim, cfg.heads, dropout=cfg.dropout, batch_first=True)
            for m in MODALITIES})
        self.norm = nn.LayerNorm(cfg.hidden_dim)

    def forward(self, motion_embedding: torch.Tensor,
                tokens: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """tokens[m] = (hidden (B, L, H), valid mask (B, L)); returns the sum of the attention outputs."""
        q = self.query(motion_embedding).unsqueeze(1)
        fused = 0
        for m in MODALITIES:
            kv, valid = tokens[m]
            out, _ = self.attend[m](q, kv, kv, key_padding_mask=~valid, need_weights=False)
            fused = fused + out
        return self.norm(fused.squeeze(1))
