"""Variable-length sequences to one zero-padded tensor plus a validity mask."""

from __future__ import annotations

import numpy as np
import torch


def pad_sequences(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (T_i, F) arrays into zero-padded (B, max T, F) float32 and a (B, max T) mask (True = real)."""
    length = max(a.shape[0] for a in arrays)
    x = torch.zeros(len(arrays), length, arrays[0].shape[1], dtype=torch.float32)
    mask = torch.zeros(len(arrays), length, dtype=torch.bool)
    for i, a in enumerate(arrays):
        x[i, :a.shape[0]] = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        mask[i, :a.shape[0]] = True
    return x, mask
