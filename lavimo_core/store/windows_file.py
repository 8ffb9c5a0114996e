"""The windows of a segment's long motions on disk (format version 2): one optional file per segment.

    segments/NNNNNN/windows.safetensors
      "embedding" (W, dim)  float16 whatever the store's dtype, L2-normalised: the embedding of each window
                            (a long take has ~100 windows per minute: half the bytes halve the scan of a query)
      "row"       (W,) int32  which record of the segment's motions.json (its index there) the window belongs to
      "span"      (W, 2) int32  [start, end) frames (20 fps) of the window inside that motion

Only motions longer than the longest window have windows (short clips are searched whole, as before), so a
segment of short clips has no such file. Rows are grouped by record, in record order. The file is listed
in the segment's "bytes" like the others and written inside the segment before it is committed, so it is
as atomic as the rest; removed motions' windows are dropped on reading (`read_windows`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import StoreCorruptError
from .format import RECORDS_FILE, segment_dir

WINDOWS_FILE = "windows.safetensors"
WINDOW_DTYPE = "float16"


def windows_blob(embedding: np.ndarray, row: np.ndarray, span: np.ndarray) -> dict[str, bytes]:
    """{WINDOWS_FILE: bytes} for format.write_segment's `extra`, or {} when there are no windows."""
    from safetensors.numpy import save

    if len(row) == 0:
        return {}
    return {WINDOWS_FILE: save({"embedding": np.ascontiguousarray(embedding, dtype=np.dtype(WINDOW_DTYPE)),
                                "row": np.ascontiguousarray(row, dtype=np.int32),
                                "span": np.ascontiguousarray(span, dtype=np.int32)})}


def read_windows(root: Path, seg: dict, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The live windows of segment `seg`: embeddings (W, dim), owner (W,) = index among the segment's LIVE
    records (as read_segment returns them), spans (W, 2); empty arrays when the segment has none."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    d = segment_dir(root, seg["name"])
    empty = (np.zeros((0, dim), np.dtype(WINDOW_DTYPE)), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    if WINDOWS_FILE not in seg.get("bytes", {}):
        return empty
    try:
        t = load((d / WINDOWS_FILE).read_bytes())
        emb, row, span = t["embedding"], t["row"].astype(np.int64), t["span"].astype(np.int64)
        ids = [r["id"] for r in json.loads((d / RECORDS_FILE).read_text(encoding="utf-8"))["motions"]]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, SafetensorError) as exc:
        raise StoreCorruptError(f"store {root} is damaged: {d / WINDOWS_FILE} is unreadable ({type(exc).__name__}: "
                                f"{exc}). Rebuild the store with `lavimo index`") from None
    if (emb.shape[1:] != (dim,) or str(emb.dtype) != WINDOW_DTYPE or len(row) != len(emb) or span.shape != (len(emb), 2)
            or (len(row) and (row.min() < 0 or row.max() >= len(ids) or (np.diff(row) < 0).any()))):
        raise StoreCorruptError(f"store {root} is damaged: {d / WINDOWS_FILE} does not fit its segment "
                                f"({emb.dtype}{emb.shape}, {len(ids)} records). Rebuild the store with `lavimo index`")
    removed = set(seg["removed"])
    live = np.cumsum([i not in removed for i in ids]) - 1  # raw record index -> index among live records
    keep = np.array([ids[r] not in removed for r in row], dtype=bool)
    return emb[keep], live[row[keep]], span[keep]
