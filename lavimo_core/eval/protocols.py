"""TMR's retrieval protocols on a query x gallery similarity matrix.

(a) all:            the gallery is the whole split; only the query's own item is a hit.
(b) all, threshold: as (a), but any item that carries the query's labels is also a hit (TMR counts items
                    whose captions are near-identical; with Bandai-Namco's exact labels we use label
                    equality), at two levels: content only, and content + style.
(d) batches of 32:  as (a) within random batches of 32 pairs, averaged.
"""

from __future__ import annotations

import numpy as np

from .metrics import batched_recall, first_hit_ranks, recall_metrics

LABEL_LEVELS: dict[str, tuple[str, ...]] = {"content": ("content",), "content+style": ("content", "style")}


def label_relevance(query_labels: list[dict[str, str]], item_labels: list[dict[str, str]],
                    keys: tuple[str, ...]) -> np.ndarray:
    """(Q, G) bool: item j carries query i's value for every key in `keys`."""
    q = np.array([[lab.get(k, "") for k in keys] for lab in query_labels], dtype=object)
    g = np.array([[lab.get(k, "") for k in keys] for lab in item_labels], dtype=object)
    return (q[:, None, :] == g[None, :, :]).all(-1)


def protocol_a(similarity: np.ndarray) -> dict[str, float]:
    """(a): query i's only hit is item i."""
    return recall_metrics(first_hit_ranks(similarity, np.eye(*similarity.shape, dtype=bool)))


def protocol_b(similarity: np.ndarray, query_labels: list[dict[str, str]], item_labels: list[dict[str, str]],
               level: str) -> dict[str, float]:
    """(b) with exact-label equivalence at `level` ("content" or "content+style"); item i stays a hit for query i."""
    rel = label_relevance(query_labels, item_labels, LABEL_LEVELS[level])
    if similarity.shape[0] == similarity.shape[1]:
        rel |= np.eye(similarity.shape[0], dtype=bool)
    return recall_metrics(first_hit_ranks(similarity, rel))


def protocol_d(similarity: np.ndarray, seed: int = 0) -> dict[str, float]:
    """(d): batches of 32 pairs (100 random batches; the whole set when it has fewer than 32)."""
    return batched_recall(similarity, np.eye(*similarity.shape, dtype=bool), batch=32, repeats=100, seed=seed)
