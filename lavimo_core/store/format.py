"""The on-disk layout of a LAVIMO store (format version 1), and the atomic reads and writes of its files.

A store is a folder::

    STORE/
      store.json                  manifest; the ONLY file that is ever rewritten. Replacing it (temp file +
                                  os.replace) is the commit point of every change: whatever it lists is the store.
      lock                        empty file; a writer holds an advisory lock on it (absent until the first write)
      faiss.index                 optional HNSW index (faiss's own serialisation) for approximate search of very
                                  large stores; see faiss_index.py. Used only while its "ids_sha256" matches.
      segments/
        000001/                   one segment per committed `add`; a segment is immutable once committed
          embeddings.safetensors  "embedding" (n, dim) and "mirror_embedding" (n, dim), dtype = manifest "dtype"
                                  (float32 or float16); L2-normalised rows; row i belongs to motions.json record i.
                                  "mirror_embedding" is the embedding of the left/right mirror image of the motion.
          motions.safetensors     "joints" (sum of T, 22, 3) float32: canonical joints (metres, Y up, 20 fps, source
                                  proportions) and "features" (sum of F, 263) float32: raw (un-normalised) HumanML3D
                                  features, every motion concatenated along time; offsets are in motions.json
          motions.json            {"format_version": 1, "motions": [record, ...]}, one record per row

    store.json = {
      "format": "lavimo-store", "format_version": 1, "created": ISO time, "updated": ISO time,
      "lavimo_version": "0.1.0",
      "model": {"model_id": str, "weights_hash": sha256 of the weights file, "dim": int,
                "path": checkpoint folder the store was built with, or null},
      "dtype": "float32" | "float16",
      "segments": [{"name": "000001", "count": n, "removed": [motion ids deleted from this segment],
                    "bytes": {"embeddings.safetensors": size, "motions.safetensors": size, "motions.json": size}}],
      "next_segment": int,
      "faiss": optional {"file": "faiss.index", "ids_sha256": sha256 of the motion ids joined by newlines, in store
                         order (the faiss row numbers), "rows": int, "bytes": int}}

    record = (MotionRecord in records.py) {
      "id": unique motion id in this store (the motion name, made unique with "~2", "~3", ...),
      "name": Motion.name, "fps": 20.0, "frames": T, "duration": seconds (T / 20),
      "joints_offset": first row in "joints", "feature_frames": F (T - 1), "features_offset": first row in "features",
      "captions": [str], "labels": {str: str},
      "source": {"path", "format", "skeleton", "fps", "duration", "license", "attribution"} (Motion.source)}

Writes: a new segment is written into `segments/.tmp-*/`, fsynced, renamed to its final name, and only then
listed in a new store.json (which drops "faiss": the index no longer matches); removing motions rewrites store.json only (their ids go to "removed"); a segment
whose motions are all removed is dropped from the manifest, then deleted. Anything in segments/ that the
manifest does not list is debris of an interrupted write; the next writer deletes it and readers ignore it.
So a reader always sees either the old or the new store, never a half-written one.

Versioning: "format_version" is checked on open; a newer version is refused with a message to update LAVIMO.
Safety: only safetensors and JSON are read (no pickle).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from .. import __version__
from .errors import StoreBusyError, StoreCorruptError, StoreError, StoreNotFoundError, StoreVersionError
from .records import MotionRecord

if TYPE_CHECKING:
    from ..model.embedder import Embedder

FORMAT = "lavimo-store"
FORMAT_VERSION = 1
MANIFEST = "store.json"
SEGMENTS = "segments"
LOCK = "lock"
EMBEDDINGS_FILE = "embeddings.safetensors"
MOTIONS_FILE = "motions.safetensors"
RECORDS_FILE = "motions.json"
SEGMENT_FILES = (EMBEDDINGS_FILE, MOTIONS_FILE, RECORDS_FILE)
FAISS_FILE = "faiss.index"
DTYPES = ("float32", "float16")
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class ModelIdentity:
    """Which model a store's embeddings come from (an Embedder has the same three attributes)."""

    model_id: str
    weights_hash: str
    dim: int
    path: str | None = None

    @classmethod
    def of(cls, embedder: "Embedder | ModelIdentity", path: str | os.PathLike | None = None) -> "ModelIdentity":
        """The identity of an Embedder (or anything with model_id, weights_hash and dim)."""
        if path is None:
            path = getattr(embedder, "folder", None) or getattr(embedder, "path", None)
        return cls(str(embedder.model_id), str(embedder.weights_hash), int(embedder.dim),
                   str(Path(path).resolve()) if path else None)

    def to_dict(self) -> dict:
        """JSON form, as stored under "model" in store.json."""
        return {"model_id": self.model_id, "weights_hash": self.weights_hash, "dim": self.dim, "path": self.path}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelIdentity":
        """Inverse of to_dict."""
        return cls(str(d["model_id"]), str(d["weights_hash"]), int(d["dim"]), d.get("path"))


def now_iso() -> str:
    """Current UTC time, ISO 8601, second resolution."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def new_manifest(model: ModelIdentity, dtype: str) -> dict:
    """The manifest of an empty store."""
    if dtype not in DTYPES:
        raise StoreError(f"unknown store dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    t = now_iso()
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "created": t, "updated": t,
            "lavimo_version": __version__, "model": model.to_dict(), "dtype": dtype,
            "segments": [], "next_segment": 1}


# ---------------------------------------------------------------- atomic writes

def _fsync_dir(path: Path) -> None:
    # Makes a rename durable on POSIX; directories cannot be opened this way on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a synced temporary file in the same folder and os.replace."""
    path = Path(path)
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, obj: object) -> None:
    """Write JSON atomically (see write_bytes_atomic)."""
    write_bytes_atomic(path, json.dumps(obj, indent=1, ensure_ascii=False).encode("utf-8"))


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the store's advisory write lock; refuse (StoreBusyError) if another process holds it."""
    f = open(root / LOCK, "a+b")
    try:
        try:
            if os.name == "posix":
                import fcntl
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                import msvcrt
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            raise StoreBusyError(f"store {root} is being written by another process (lock held on {root / LOCK}); "
                                 "wait for it to finish and try again") from None
        yield
    finally:
        f.close()  # closing releases the lock


# ---------------------------------------------------------------- manifest

def read_manifest(root: Path) -> dict:
    """Read and check store.json; raise a StoreError saying what is wrong and what to do."""
    root = Path(root)
    if not root.exists():
        raise StoreNotFoundError(f"no store at {root}: the folder does not exist. "
                                 "Build one with `lavimo index SOURCE --model CKPT --out STORE`.")
    path = root / MANIFEST
    if not path.is_file():
        raise StoreNotFoundError(f"{root} is not a LAVIMO store: {MANIFEST} is missing. "
                                 "Build one with `lavimo index SOURCE --model CKPT --out STORE`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreCorruptError(f"store manifest {path} is unreadable ({exc}); rebuild the store with "
                                "`lavimo index` or restore it from a backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreCorruptError(f"{path} is not a LAVIMO store manifest (no \"format\": \"{FORMAT}\"); "
                                "rebuild the store with `lavimo index`")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise StoreCorruptError(f"{path}: invalid format_version {version!r}; rebuild the store with `lavimo index`")
    if version > FORMAT_VERSION:
        raise StoreVersionError(f"store {root} has format version {version}, but this LAVIMO ({__version__}) reads "
                                f"up to version {FORMAT_VERSION}; update LAVIMO, or rebuild the store with this version")
    try:
        ModelIdentity.from_dict(manifest["model"])
        if manifest["dtype"] not in DTYPES:
            raise ValueError(f"dtype {manifest['dtype']!r}")
        for seg in manifest["segments"]:
            str(seg["name"]), int(seg["count"]), list(seg["removed"])
        int(manifest["next_segment"])
        if "faiss" in manifest:
            str(manifest["faiss"]["file"]), str(manifest["faiss"]["ids_sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreCorruptError(f"{path} is damaged (bad or missing field: {exc}); rebuild the store with "
                                "`lavimo index` or restore it from a backup") from None
    return manifest


def write_manifest(root: Path, manifest: dict) -> None:
    """Commit a new manifest (atomic replace)."""
    manifest = dict(manifest, updated=now_iso(), lavimo_version=__version__)
    write_json_atomic(Path(root) / MANIFEST, manifest)


# ---------------------------------------------------------------- segments

def segment_dir(root: Path, name: str) -> Path:
    """Folder of segment `name`."""
    return Path(root) / SEGMENTS / name


def write_segment(root: Path, name: str, records: list[MotionRecord], embedding: np.ndarray, mirror_embedding: np.ndarray,
                  joints: np.ndarray, features: np.ndarray) -> dict:
    """Write a complete segment under a temporary name, sync it, rename it to `name`; return its manifest entry."""
    from safetensors.numpy import save

    final = segment_dir(root, name)
    if final.exists():
        raise StoreCorruptError(f"segment {final} exists but is not in the manifest; it will be cleaned up by "
                                "the next write — try again")
    tmp = final.parent / f"{_TMP_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    blobs = {
        EMBEDDINGS_FILE: save({"embedding": np.ascontiguousarray(embedding),
                               "mirror_embedding": np.ascontiguousarray(mirror_embedding)}, metadata=meta),
        MOTIONS_FILE: save({"joints": np.ascontiguousarray(joints, dtype=np.float32),
                            "features": np.ascontiguousarray(features, dtype=np.float32)}, metadata=meta),
        RECORDS_FILE: json.dumps({"format_version": FORMAT_VERSION, "motions": [r.to_dict() for r in records]},
                                 ensure_ascii=False).encode("utf-8"),
    }
    try:
        for fname, data in blobs.items():
            with open(tmp / fname, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        _fsync_dir(tmp)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(final.parent)
    return {"name": name, "count": len(records), "removed": [], "bytes": {k: len(v) for k, v in blobs.items()}}


def _check_sizes(root: Path, seg: dict) -> None:
    d = segment_dir(root, seg["name"])
    for fname, size in seg.get("bytes", {}).items():
        p = d / fname
        try:
            actual = p.stat().st_size
        except OSError:
            raise StoreCorruptError(f"store {root} is damaged: {p} is missing. Rebuild the store with `lavimo index`, "
                                    "or restore it from a backup") from None
        if actual != size:
            raise StoreCorruptError(f"store {root} is damaged: {p} has {actual} bytes, the manifest says {size} "
                                    "(truncated or overwritten). Rebuild the store with `lavimo index`, "
                                    "or restore it from a backup")


def read_segment(root: Path, seg: dict, dtype: str, dim: int) -> tuple[list[MotionRecord], np.ndarray, np.ndarray]:
    """Read one segment's live rows (records and embeddings, not the motions): those its "removed" does not list.

    Checks that the files agree with the manifest. Opening and compacting a store both read through here,
    so removed motions are dropped in one place.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    _check_sizes(root, seg)
    d = segment_dir(root, seg["name"])
    try:
        raw = json.loads((d / RECORDS_FILE).read_text(encoding="utf-8"))["motions"]
        tensors = load((d / EMBEDDINGS_FILE).read_bytes())
        emb, mirror = tensors["embedding"], tensors["mirror_embedding"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, SafetensorError) as exc:
        raise StoreCorruptError(f"store {root} is damaged: segment {d} is unreadable ({type(exc).__name__}: {exc}). "
                                "Rebuild the store with `lavimo index`, or restore it from a backup") from None
    n = int(seg["count"])
    for what, arr in (("embedding", emb), ("mirror_embedding", mirror)):
        if arr.shape != (n, dim) or str(arr.dtype) != dtype:
            raise StoreCorruptError(f"store {root} is damaged: {d / EMBEDDINGS_FILE} {what} is {arr.dtype}{arr.shape}, "
                                    f"expected {dtype}({n}, {dim}). Rebuild the store with `lavimo index`")
    count = len(raw) if isinstance(raw, list) else 0
    if count != n:
        raise StoreCorruptError(f"store {root} is damaged: {d / RECORDS_FILE} has {count} records, expected {n}. "
                                "Rebuild the store with `lavimo index`")
    records = [MotionRecord.from_dict(r, str(d / RECORDS_FILE)) for r in raw]
    removed = set(seg["removed"])
    if removed:
        keep = [i for i, r in enumerate(records) if r.id not in removed]
        records, emb, mirror = [records[i] for i in keep], emb[keep], mirror[keep]
    return records, emb, mirror


def read_motion_arrays(root: Path, segment: str, record: MotionRecord) -> tuple[np.ndarray, np.ndarray]:
    """Read one motion's joints (T, 22, 3) and features (F, 263) without loading the rest of the segment."""
    from safetensors import SafetensorError, safe_open

    path = segment_dir(root, segment) / MOTIONS_FILE
    try:
        with safe_open(str(path), framework="numpy") as f:
            j0, f0 = record.joints_offset, record.features_offset
            joints = f.get_slice("joints")[j0:j0 + record.frames]
            feats = f.get_slice("features")[f0:f0 + record.feature_frames]
    except (OSError, SafetensorError, KeyError, ValueError) as exc:
        raise StoreCorruptError(f"cannot read motion {record.id!r} from {path} ({type(exc).__name__}: {exc}); "
                                "the store may have been changed or damaged: reopen it, or rebuild it with "
                                "`lavimo index`") from None
    if joints.shape[0] != record.frames or feats.shape[0] != record.feature_frames:
        raise StoreCorruptError(f"motion {record.id!r} in {path} is truncated; rebuild the store with `lavimo index`")
    return np.asarray(joints, dtype=np.float32), np.asarray(feats, dtype=np.float32)


def remove_debris(root: Path, manifest: dict) -> list[str]:
    """Delete segment folders and temp files the manifest does not list (left by interrupted writes); call under the lock."""
    listed = {seg["name"] for seg in manifest["segments"]}
    removed = []
    seg_root = Path(root) / SEGMENTS
    if seg_root.is_dir():
        for p in seg_root.iterdir():
            if p.name not in listed:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p.name)
    for p in Path(root).glob(f"{_TMP_PREFIX}*"):
        p.unlink(missing_ok=True)
        removed.append(p.name)
    return removed
