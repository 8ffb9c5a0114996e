"""Vector math that several rooms need (retargeting, synthesis, video normalisation): one copy of it."""

from __future__ import annotations

import numpy as np


def unit(v: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Vectors (..., D) scaled to unit length along the last axis; near-zero vectors stay near zero."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)
