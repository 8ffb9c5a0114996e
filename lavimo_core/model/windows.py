"""Long sequences as overlapping windows of the length the model was trained on, and back to one embedding.

Training sees crops of at most `train.crop_max_frames`; a 60 s dance embedded in one piece would be far
outside that. Such a sequence is cut into windows overlapping by half, each embedded, and the unit
embeddings averaged (and renormalised).
"""

from __future__ import annotations

import numpy as np


def split_windows(arrays: list[np.ndarray], span: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Split sequences longer than `span` into windows overlapping by half (the last one ends at the end)."""
    pieces, owner = [], []
    for i, a in enumerate(arrays):
        n = a.shape[0]
        if span <= 0 or n <= span:
            starts = [0]
        else:
            starts = sorted(set(range(0, n - span + 1, max(1, span // 2))) | {n - span})
        for s in starts:
            pieces.append(a[s:s + span] if span > 0 else a)
            owner.append(i)
    return pieces, np.asarray(owner)


def average_windows(embeddings: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Mean of each item's window embeddings, renormalised (items with one window are unchanged)."""
    if len(owner) == n:
        return embeddings
    out = np.zeros((n, embeddings.shape[1]), dtype=np.float64)
    np.add.at(out, owner, embeddings)
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
