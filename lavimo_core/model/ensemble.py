"""Several LAVIMO models trained alike from different seeds, used as one model.

One run's result depends on its seed: two seeds of the shipped recipe found 65% and 82% of the same free
captions on Bandai-Namco-1, and won or lost single videos. An ensemble averages that luck out. Each member
embeds into its own space, so their embeddings are not averaged: they are concatenated, each unit length and
scaled by 1/sqrt(n). The result is again unit length, and the cosine of two ensemble embeddings is the mean of
the members' cosines (for a motion longer than one window, nearly: its windows' embeddings are averaged and
normalised once, as for one model), so the store, the calibration and the ONNX export use it as one model.

Members keep only their encoders: the fusion and the decoder serve training alone.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from .config import ModelConfig
from .lavimo import Lavimo, normalized


def member_config(cfg: ModelConfig) -> ModelConfig:
    """The config of one member as an ensemble holds it: a single model with its encoders only."""
    return dataclasses.replace(cfg, members=1, use_fusion=False, use_decoder=False)


class Ensemble(nn.Module):
    """`cfg.members` encoders-only Lavimo models; encode_* return the members' unit embeddings concatenated / sqrt(n)."""

    def __init__(self, cfg: ModelConfig, text_dim: int):
        super().__init__()
        self.cfg = cfg
        self.text_dim = text_dim
        self.members = nn.ModuleList(Lavimo(member_config(cfg), text_dim) for _ in range(cfg.members))
        self._scale = 1.0 / math.sqrt(cfg.members)

    @property
    def embedding_dim(self) -> int:
        """Size of the unit vectors retrieval compares: the members' sizes added up."""
        return sum(m.embedding_dim for m in self.members)

    @property
    def has_video(self) -> bool:
        """Whether the members embed videos."""
        return self.members[0].has_video

    def encode_text(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Frozen token features (B, L, backbone_dim) -> (B, embedding_dim), unit length."""
        return self._joined([m.encode_text(features, mask) for m in self.members])

    def encode_motion(self, raw: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Raw motion features (B, T, 263) -> (B, embedding_dim), unit length."""
        return self._joined([m.encode_motion(raw, mask) for m in self.members])

    def encode_video(self, features: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Pose features (B, Tv, P) -> (B, embedding_dim), unit length."""
        return self._joined([m.encode_video(features, present) for m in self.members])

    def _joined(self, embeddings: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat([normalized(z) for z in embeddings], dim=-1) * self._scale


def build_model(cfg: ModelConfig, text_dim: int) -> Lavimo | Ensemble:
    """The model a config describes: one Lavimo, or an Ensemble when cfg.members > 1."""
    return Ensemble(cfg, text_dim) if cfg.members > 1 else Lavimo(cfg, text_dim)


def join_members(cfg: ModelConfig, members: list[Lavimo]) -> Ensemble:
    """An Ensemble holding the encoders (weights and motion normaliser) of trained single models."""
    if len(members) != cfg.members:
        raise ValueError(f"model.members is {cfg.members} but {len(members)} trained models were given")
    ensemble = Ensemble(cfg, members[0].text_dim)
    for slot, trained in zip(ensemble.members, members, strict=True):
        own = slot.state_dict()
        slot.load_state_dict({k: v for k, v in trained.state_dict().items() if k in own})
    return ensemble.eval()
