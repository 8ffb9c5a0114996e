"""Exact top-k cosine search over an embedding matrix, with filters; and what a score means.

What a score means
------------------
Every embedding (query and motion) is L2-normalised, so `score` is the cosine similarity in [-1, 1] between
the query and the motion in the model's joint space. Cosines are only comparable within one model and one
query kind (text, video, motion), so each hit also carries `probability`: the model's calibrated P(the query
and this motion match), fitted on held-out validation pairs when the model was trained
(`Embedder.calibration.probability(kind, cosine)`; see lavimo_core/model/calibration.py).

"No good match" is a decision about the query's BEST hit, and the threshold is fitted for exactly that:
`calibration.no_match_below[kind]` is the top-1 cosine below which the library more likely lacks than holds
anything like the query, fitted on validation queries' top-1 cosines with their action present vs removed
from the gallery (at it, `calibration.library_probability(kind, top1)` = 1/2). A hit's `is_match` is
`score >= no_match_below`; hits are sorted by score, so the results show "no good match" (the add-on and
the CLI say so instead of presenting the nearest clips as answers) exactly when the best hit is not a match.
Models trained before this used a pairwise threshold (lower: it flagged few absent actions); their
checkpoints keep it. For a combined query (e.g. text 0.7 + video 0.3) the score is the weighted mean of the
per-kind cosines, the probability the weighted mean of the per-kind probabilities, and the threshold the
weighted mean of the per-kind thresholds. Without a model (a store opened with no embedder) probability is
NaN and every hit is a match.

Speed: float32 uses BLAS gemv (multi-threaded, memory-bound). float16 has no BLAS kernel in numpy and
numpy's half->float conversion is scalar, so it uses torch's half gemv when torch is installed (the
engine always has it), split over the cores, else converts in cache-sized chunks; the winners are
rescored in float32.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

_CHUNK_ROWS = 16384  # float16 fallback: 16k x 256 x 4 B = 16 MiB of float32 per chunk
_PARALLEL_ROWS = 65536  # float16 rows per task in the thread pool (8 MiB at dim 256)
_POOL: ThreadPoolExecutor | None = None


@dataclass
class Filters:
    """Restrict a search. Every field that is set must hold for a motion to be returned."""

    min_duration: float | None = None  # seconds
    max_duration: float | None = None  # seconds
    source: str | None = None  # case-insensitive substring of the motion's source file path
    labels: dict[str, str] = field(default_factory=dict)  # key -> value, case-insensitive; key "" = any key

    def is_empty(self) -> bool:
        """True when the filter lets everything through."""
        return self.min_duration is None and self.max_duration is None and not self.source and not self.labels


def cosine_scores(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """matrix (N, D) float32|float16 @ query (D,) -> (N,) float32."""
    query = np.asarray(query, dtype=np.float32)
    if matrix.dtype == np.float32:
        return matrix @ query
    try:
        import torch
    except ImportError:
        return _half_scores_numpy(matrix, query)
    t, q = torch.from_numpy(matrix), torch.from_numpy(query).half()
    out = torch.empty(len(t), dtype=torch.float16)
    # torch's half gemv runs on one core: split the rows over a small thread pool (it releases the GIL).
    spans = [(i, min(i + _PARALLEL_ROWS, len(t))) for i in range(0, len(t), _PARALLEL_ROWS)]
    if len(spans) == 1:
        torch.mv(t, q, out=out)
    else:
        list(_pool().map(lambda ab: torch.mv(t[ab[0]:ab[1]], q, out=out[ab[0]:ab[1]]), spans))
    return out.float().numpy()


def _pool():
    global _POOL
    if _POOL is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        _POOL = ThreadPoolExecutor(max(1, cores), thread_name_prefix="lavimo-scan")
    return _POOL


def _half_scores_numpy(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    out = np.empty(len(matrix), dtype=np.float32)
    buf = np.empty((_CHUNK_ROWS, matrix.shape[1]), dtype=np.float32)
    for i in range(0, len(matrix), _CHUNK_ROWS):
        chunk = matrix[i:i + _CHUNK_ROWS]
        b = buf[:len(chunk)]
        b[...] = chunk
        np.dot(b, query, out=out[i:i + len(chunk)])
    return out


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k highest scores (only where mask is True), best first."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
        k = min(k, int(mask.sum()))
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    idx = np.argpartition(scores, len(scores) - k)[len(scores) - k:] if k < len(scores) else np.arange(len(scores))
    return idx[np.argsort(-scores[idx], kind="stable")]


class LabelIndex:
    """Labels of every row as integer codes per key, so a label filter is one vectorised comparison."""

    def __init__(self, labels: list[dict[str, str]]):
        keys = sorted({k.lower() for d in labels for k in d})
        self.codes: dict[str, np.ndarray] = {}
        self.vocab: dict[str, dict[str, int]] = {}
        for key in keys:
            vocab: dict[str, int] = {}
            codes = np.full(len(labels), -1, dtype=np.int32)
            for i, d in enumerate(labels):
                for k, v in d.items():
                    if k.lower() == key:
                        codes[i] = vocab.setdefault(str(v).lower(), len(vocab))
            self.codes[key], self.vocab[key] = codes, vocab

    def match(self, key: str, value: str, n: int) -> np.ndarray:
        """Rows whose label `key` equals `value` (any key when key is "")."""
        value = value.lower()
        keys = [key.lower()] if key else list(self.codes)
        out = np.zeros(n, dtype=bool)
        for k in keys:
            code = self.vocab.get(k, {}).get(value)
            if code is not None:
                out |= self.codes[k] == code
        return out


def filter_mask(filters: Filters | None, durations: np.ndarray, sources: list[str],
                labels: LabelIndex) -> np.ndarray | None:
    """Boolean (N,) mask of rows passing `filters`, or None when there is no filter."""
    if filters is None or filters.is_empty():
        return None
    n = len(durations)
    mask = np.ones(n, dtype=bool)
    if filters.min_duration is not None:
        mask &= durations >= filters.min_duration
    if filters.max_duration is not None:
        mask &= durations <= filters.max_duration
    if filters.source:
        needle = filters.source.lower()
        mask &= np.fromiter((needle in s for s in sources), dtype=bool, count=n)
    for key, value in filters.labels.items():
        mask &= labels.match(key, value, n)
    return mask
