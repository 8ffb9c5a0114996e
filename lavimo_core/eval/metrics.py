"""Retrieval metrics from a similarity matrix: rank of the first relevant item, R@k, median rank.

Ties are broken pessimistically: an irrelevant item scoring exactly as high as the best relevant one
is ranked before it, so a model that scores everything alike gets no free hits.
"""

from __future__ import annotations

import numpy as np

KS = (1, 2, 3, 5, 10)


def first_hit_ranks(similarity: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """(Q, G) scores and (Q, G) relevance -> (Q,) 1-based rank of each query's best-ranked relevant item."""
    sim = np.asarray(similarity, dtype=np.float64)
    rel = np.asarray(relevant, dtype=bool)
    if sim.shape != rel.shape or sim.ndim != 2:
        raise ValueError(f"similarity {sim.shape} and relevance {rel.shape} must be equal (Q, G) matrices")
    if not rel.any(axis=1).all():
        raise ValueError(f"{int((~rel.any(axis=1)).sum())} queries have no relevant item in the gallery")
    best = np.where(rel, sim, -np.inf).max(axis=1, keepdims=True)
    return 1 + ((sim >= best) & ~rel).sum(axis=1)


def recall_metrics(ranks: np.ndarray, ks: tuple[int, ...] = KS) -> dict[str, float]:
    """{"R@k": fraction of queries with rank <= k for k in ks, "MedR": median rank, "n": queries}."""
    ranks = np.asarray(ranks)
    out = {f"R@{k}": float((ranks <= k).mean()) for k in ks}
    out["MedR"] = float(np.median(ranks))
    out["n"] = int(ranks.size)
    return out


def batched_recall(similarity: np.ndarray, relevant: np.ndarray, batch: int = 32, repeats: int = 100,
                   seed: int = 0) -> dict[str, float]:
    """TMR protocol (d): metrics within random batches of `batch` pairs (query i pairs with item i),
    averaged over `repeats` batches; with fewer than `batch` pairs every batch is the whole set."""
    sim = np.asarray(similarity)
    n = sim.shape[0]
    if sim.shape[0] != sim.shape[1]:
        raise ValueError("protocol (d) needs paired queries and items (a square matrix)")
    rng = np.random.default_rng(seed)
    size = min(batch, n)
    runs = []
    for _ in range(repeats if size < n else 1):
        idx = rng.choice(n, size=size, replace=False)
        runs.append(recall_metrics(first_hit_ranks(sim[np.ix_(idx, idx)], np.asarray(relevant)[np.ix_(idx, idx)])))
    out = {k: float(np.mean([r[k] for r in runs])) for k in runs[0] if k != "n"}
    out["n"] = n
    out["batches"] = len(runs)
    out["batch_size"] = size
    return out
