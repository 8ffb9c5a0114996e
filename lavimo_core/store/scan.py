"""Exact cosine scores of one query against an embedding matrix, and top-k of them.

Speed: float32 uses BLAS gemv (multi-threaded, memory-bound). float16 has no BLAS kernel in numpy and
numpy's half->float conversion is scalar, so it uses torch's half gemv when torch is installed (the
engine always has it), split over the cores, else converts in cache-sized chunks; the winners are
rescored in float32.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_CHUNK_ROWS = 16384  # float16 fallback: 16k x 256 x 4 B = 16 MiB of float32 per chunk
_PARALLEL_ROWS = 65536  # float16 rows per task in the thread pool (8 MiB at dim 256)


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


@functools.cache
def _pool() -> ThreadPoolExecutor:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return ThreadPoolExecutor(max(1, cores), thread_name_prefix="lavimo-scan")


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
