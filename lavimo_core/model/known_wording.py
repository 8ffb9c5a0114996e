"""Has the model learned an action worded like this text query? Its nearest training caption in the joint space.

A text query's best hit cannot tell "a person swims" (an action no training clip shows) from a free-worded
query for an action the library holds: on the shipped model both reach a top-1 cosine of about 0.65 in the
demo library. Their wording can: the swim query is far from every caption the model was trained on, a free
phrasing of a known action is near some of them. The nearest training caption's cosine separated the bench's
unknown actions from its free captions with AUC 0.97 (the best hit: 0.91).

The bank is the training captions' text embeddings, thinned to `BANK_SIZE` by farthest-point sampling
(deterministic; nearly the same nearest-caption cosines as all ~7,000, at a seventh of the size). Its threshold
is fitted like the no-match one (calibration.py): on validation captions in wording training never used,
"known" = the nearest caption over the whole bank, "unknown" = over the bank without the captions of the
query's content family (the model's stand-in for an action it never learned).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BANK_SIZE = 1024


def thin(embeddings: np.ndarray, size: int = BANK_SIZE) -> np.ndarray:
    """Indices (sorted) of `size` rows spread over the unit-length `embeddings` by farthest-point sampling."""
    x = np.asarray(embeddings, dtype=np.float32)
    if len(x) <= size:
        return np.arange(len(x))
    picked = [0]
    nearest = x @ x[0]  # cosine of every row to its nearest picked row
    for _ in range(size - 1):
        i = int(np.argmin(nearest))
        picked.append(i)
        nearest = np.maximum(nearest, x @ x[i])
    return np.array(sorted(picked))


def nearest_caption(queries: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """(Q,) cosine of each unit-length query to its nearest bank caption."""
    return (np.asarray(queries, dtype=np.float32) @ np.asarray(bank, dtype=np.float32).T).max(axis=1)


def known_unknown(queries: np.ndarray, query_families: Sequence[str], bank: np.ndarray,
                  bank_families: Sequence[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-caption cosines of validation queries with the whole bank ("known") and without the captions of
    their own content family ("unknown"); a bank caption may belong to several families (one wording, two actions)."""
    sim = np.asarray(queries, dtype=np.float32) @ np.asarray(bank, dtype=np.float32).T
    known = sim.max(axis=1)
    unknown = np.array([np.where([f not in fams for fams in bank_families], s, -np.inf).max()
                        for s, f in zip(sim, query_families)], dtype=np.float32)
    return known, unknown
