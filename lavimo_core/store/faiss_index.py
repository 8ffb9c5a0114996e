"""Optional approximate top-k with faiss (HNSW graph) for very large stores; exact search stays the default.

Exact search reads the whole embedding matrix once per query, at memory speed (see BENCHMARKS.md: tens of ms
per million 256-d rows on 2 cores). Past several million motions an HNSW graph answers in about a millisecond
at a small recall cost. `Store.build_faiss_index()` (or `lavimo index ... --faiss`) writes it to
`faiss.index` in the store; it is used only while it covers exactly the store's current motions (it is
stale after an add or remove and then ignored until rebuilt). faiss is an optional dependency
(`pip install faiss-cpu`), not pinned; without it the store searches exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HNSW_M = 32  # graph degree: recall vs memory (faiss's recommended range 16-64)
EF_CONSTRUCTION = 80
EF_SEARCH = 256  # candidates explored per query: >= the candidates the store asks for


def available() -> bool:
    """Whether faiss can be imported."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


class FaissIndex:
    """An HNSW inner-product index over L2-normalised rows (inner product = cosine)."""

    def __init__(self, index):
        self.index = index

    @classmethod
    def build(cls, matrix: np.ndarray) -> FaissIndex:
        """Index every row of `matrix` (row number = faiss id)."""
        import faiss
        index = faiss.IndexHNSWFlat(matrix.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        for i in range(0, len(matrix), 65536):  # float32 copies one chunk at a time
            index.add(np.ascontiguousarray(matrix[i:i + 65536], dtype=np.float32))
        return cls(index)

    def to_bytes(self) -> bytes:
        """Serialise (faiss's own format, not pickle), for an atomic write."""
        import faiss
        return faiss.serialize_index(self.index).tobytes()

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        """Read an index written by save()."""
        return cls.from_bytes(Path(path).read_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> FaissIndex:
        """An index from the bytes of to_bytes()."""
        import faiss
        return cls(faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8).copy()))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def candidates(self, query: np.ndarray, n: int) -> np.ndarray:
        """Up to n row numbers, best first (approximate)."""
        self.index.hnsw.efSearch = max(EF_SEARCH, n)
        _, rows = self.index.search(np.asarray(query, dtype=np.float32)[None], n)
        rows = rows[0]
        return rows[rows >= 0].astype(np.int64)
