"""The on-disk layout of a LAVIMO store (format version 2; version 1 still opens), and the atomic reads and writes of its files.

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
          motions.json            {"format_version": 1 or 2, "motions": [record, ...]}, one record per row
          windows.safetensors     version 2, only when the segment has long motions: the embeddings, owner rows and
                                  frame spans of their windows for moment search (see windows_file.py)

    store.json = {
      "format": "lavimo-store", "format_version": 1, "created": ISO time, "updated": ISO time,
      "lavimo_version": "0.1.0",
      "model": {"model_id": str, "weights_hash": sha256 of the weights file, "dim": int,
                "path": checkpoint folder the store was built with, or null},
      "dtype": "float32" | "float16",
      "segments": [{"name": "000001", "count": n, "removed": [motion ids deleted from this segment],
                    "bytes": {"embeddings.safetensors": size, "motions.safetensors": size, "motions.json": size},
                    "sha256": {same three files: hex sha256} (optional: stores from before it have none;
                               embeddings and motions.json are checked on every open, all three by --verify)}],
      "next_segment": int,
      "windows": version 2: {"lengths": [window lengths in frames: the model's training crops], "stride_fraction":
                 windows of each length start every this fraction of it} or null (no checkpoint to take them
                 from); version 1 has no "windows": long motions are searched whole, as they were,
      "trash": optional [names of segments dropped by the last remove/compact/overwrite, deleted after the commit]:
               an unlisted segment folder is deleted by a later writer only when it is here or numbered >=
               next_segment (an uncommitted write); one dropped from the manifest by hand is left alone,
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
Version 1 stores (before moment search) open, search and take additions as before, staying version 1;
`lavimo info` says how many of their motions are long enough to be searched inside once rebuilt.
Safety: only safetensors and JSON are read (no pickle).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..atomic import sync_folder, write_atomic
from .errors import StoreBusyError, StoreCorruptError, StoreError, StoreNotFoundError, StoreVersionError
from .records import MotionRecord

if TYPE_CHECKING:
    from ..model.embedder import Embedder

FORMAT = "lavimo-store"
# 2: long motions also stored as windows (windows.safetensors; "windows" in store.json) for moment search.
# Version 1 stores open and search as before (whole motions); they are written as version 1 again.
FORMAT_VERSION = 2
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
# What this code ever creates, and so the only names it deletes: segment folders ("000001"), their
# temporary folders (".tmp-000001-1a2b3c4d") and temporary files beside store.json / faiss.index
# (".store.json.1a2b3c4d.tmp.json": lavimo_core.atomic's names).
_SEGMENT_NAME = re.compile(r"^[0-9]{6,}$")
_SEGMENT_TMP = re.compile(r"^\.tmp-[0-9]{6,}-[0-9a-f]{8}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# atomic_write's names, and those of the writer before it (an older LAVIMO's interrupted write is debris too).
_ROOT_TMP = re.compile(r"^\.((store\.json|faiss\.index)\.[0-9a-f]{8}\.tmp\.(json|index)|tmp-(store\.json|faiss\.index)-[0-9a-f]{8})$")


@dataclass(frozen=True)
class ModelIdentity:
    """Which model a store's embeddings come from (an Embedder has the same three attributes)."""

    model_id: str
    weights_hash: str
    dim: int
    path: str | None = None

    @classmethod
    def of(cls, embedder: Embedder | ModelIdentity, path: str | os.PathLike | None = None) -> ModelIdentity:
        """The identity of an Embedder (or anything with model_id, weights_hash and dim)."""
        if path is None:
            path = getattr(embedder, "folder", None) or getattr(embedder, "path", None)
        return cls(str(embedder.model_id), str(embedder.weights_hash), int(embedder.dim),
                   str(Path(path).resolve()) if path else None)

    def to_dict(self) -> dict:
        """JSON form, as stored under "model" in store.json."""
        return {"model_id": self.model_id, "weights_hash": self.weights_hash, "dim": self.dim, "path": self.path}

    @classmethod
    def from_dict(cls, d: dict) -> ModelIdentity:
        """Inverse of to_dict."""
        return cls(str(d["model_id"]), str(d["weights_hash"]), int(d["dim"]), d.get("path"))


def now_iso() -> str:
    """Current UTC time, ISO 8601, second resolution."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def new_manifest(model: ModelIdentity, dtype: str, windows: dict | None = None) -> dict:
    """The manifest of an empty store; `windows`: {"lengths": [frames], "stride_fraction": f} or None (see moments.py)."""
    if dtype not in DTYPES:
        raise StoreError(f"unknown store dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    t = now_iso()
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "created": t, "updated": t,
            "lavimo_version": __version__, "model": model.to_dict(), "dtype": dtype,
            "segments": [], "next_segment": 1, "windows": windows}


# ---------------------------------------------------------------- atomic writes (lavimo_core.atomic)

def write_json_atomic(path: Path, obj: object) -> None:
    """Write JSON atomically."""
    write_atomic(path, json.dumps(obj, indent=1, ensure_ascii=False))


LOCK_WAIT_S = 60.0  # a writer holds the lock only while it commits a chunk: waiting beats refusing


@contextlib.contextmanager
def write_lock(root: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the store's advisory write lock, waiting up to `wait` s (LOCK_WAIT_S) for another writer; then StoreBusyError."""
    try:
        f = open(root / LOCK, "a+b")
    except OSError as exc:
        raise StoreError(f"cannot write to store {root} ({exc.strerror or exc}); make the folder writable "
                         "(e.g. chmod -R u+w), or copy the store somewhere writable and use the copy") from None
    try:
        deadline = time.monotonic() + (LOCK_WAIT_S if wait is None else wait)
        while True:
            try:
                if os.name == "posix":
                    import fcntl
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                else:
                    import msvcrt
                    msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise StoreBusyError(f"store {root} is being written by another process (lock held on "
                                         f"{root / LOCK}); wait for it to finish and try again") from None
                time.sleep(0.05)
        # Every writer first clears what a killed writer left (the docstring's promise, for every kind of write).
        with contextlib.suppress(StoreError):
            remove_debris(root, read_manifest(root))
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
        if not isinstance(manifest["segments"], list):
            raise TypeError("segments is not a list")
        for seg in manifest["segments"]:
            _check_segment_entry(seg)
        if len({seg["name"] for seg in manifest["segments"]}) != len(manifest["segments"]):
            raise ValueError("a segment is listed twice")
        last = max((int(seg["name"]) for seg in manifest["segments"]), default=0)
        if not isinstance(manifest["next_segment"], int) or manifest["next_segment"] <= last:
            raise ValueError(f"next_segment {manifest['next_segment']!r} (segments go up to {last})")
        trash = manifest.get("trash", [])
        if not isinstance(trash, list) or not all(isinstance(n, str) and _SEGMENT_NAME.match(n) for n in trash):
            raise ValueError(f"trash {trash!r} is not a list of segment names")
        if set(trash) & {seg["name"] for seg in manifest["segments"]}:
            raise ValueError("a listed segment is also in trash")
        if manifest.get("windows") is not None:
            [int(n) for n in manifest["windows"]["lengths"]], float(manifest["windows"]["stride_fraction"])
        if "faiss" in manifest:
            if manifest["faiss"]["file"] != FAISS_FILE:  # a path from the manifest is opened: only our own name
                raise ValueError(f"faiss file {manifest['faiss']['file']!r} (expected {FAISS_FILE!r})")
            str(manifest["faiss"]["ids_sha256"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreCorruptError(f"{path} is damaged (bad or missing field: {exc}); rebuild the store with "
                                "`lavimo index` or restore it from a backup") from None
    return manifest


def _check_segment_entry(seg: dict) -> None:
    """Raise ValueError/TypeError unless `seg` is a well-formed segment entry whose name is a plain name."""
    name = seg["name"]
    if not isinstance(name, str) or not _SEGMENT_NAME.match(name):
        # Names are joined to the store path and deleted by remove/compact: "../x" or "/x" would reach outside.
        raise ValueError(f"segment name {name!r} is not a plain segment name like '000001'")
    if not isinstance(seg["count"], int) or seg["count"] < 1:
        raise ValueError(f"segment {name}: count {seg['count']!r} is not a positive whole number")
    removed = seg["removed"]
    if not isinstance(removed, list) or not all(isinstance(i, str) for i in removed):
        raise TypeError(f"segment {name}: removed is not a list of motion ids")
    if len(set(removed)) != len(removed) or len(removed) >= seg["count"]:
        raise ValueError(f"segment {name}: removed lists {len(removed)} ids ({len(set(removed))} distinct) "
                         f"of {seg['count']} motions")
    # File names in "bytes" / "sha256" are joined to the segment folder: plain names only.
    sizes = seg.get("bytes", {})
    if (not isinstance(sizes, dict) or not all(_FILE_NAME.match(str(k)) for k in sizes)
            or not all(isinstance(v, int) for v in sizes.values())):
        raise ValueError(f"segment {name}: bytes must map plain file names ({', '.join(SEGMENT_FILES)}) to sizes")
    sums = seg.get("sha256", {})
    if (not isinstance(sums, dict) or not all(_FILE_NAME.match(str(k)) for k in sums)
            or not all(isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for v in sums.values())):
        raise ValueError(f"segment {name}: sha256 must map plain file names to hex digests")


def with_trash(manifest: dict, names: list[str]) -> dict:
    """`manifest` that also lists segments `names` as dropped (deleted after this commit, or by the next writer)."""
    return dict(manifest, trash=sorted(set(manifest.get("trash", [])) | set(names)))


def write_manifest(root: Path, manifest: dict) -> None:
    """Commit a new manifest (atomic replace)."""
    manifest = dict(manifest, updated=now_iso(), lavimo_version=__version__)
    trash = [n for n in manifest.pop("trash", []) if (Path(root) / SEGMENTS / n).is_dir()]  # still to delete
    if trash:
        manifest["trash"] = trash
    try:
        write_json_atomic(Path(root) / MANIFEST, manifest)
    except OSError as exc:
        raise _write_error(root, exc) from None


def _write_error(root: Path, exc: OSError) -> StoreError:
    """A failed write (read-only folder, full disk) as a message; the store is unchanged."""
    return StoreError(f"cannot write to store {root} ({exc.strerror or exc}); nothing was changed. Make the folder "
                      "writable (e.g. chmod -R u+w) and check the free disk space, then try again")


# ---------------------------------------------------------------- segments

def segment_dir(root: Path, name: str) -> Path:
    """Folder of segment `name`: refused (StoreCorruptError) unless a plain name that stays inside the store."""
    root = Path(root)
    if not isinstance(name, str) or not _SEGMENT_NAME.match(name):
        raise StoreCorruptError(f"store {root} is damaged: segment name {name!r} is not a plain segment name; "
                                "rebuild the store with `lavimo index` or restore it from a backup")
    d = root / SEGMENTS / name
    if d.is_symlink() or (root / SEGMENTS).is_symlink():  # never read or delete through a link out of the store
        raise StoreCorruptError(f"store {root} is damaged: {d} is a symbolic link, which a store never creates; "
                                "rebuild the store with `lavimo index` or restore it from a backup")
    return d


def write_segment(root: Path, name: str, records: list[MotionRecord], embedding: np.ndarray, mirror_embedding: np.ndarray,
                  joints: np.ndarray, features: np.ndarray, extra: dict[str, bytes] | None = None) -> dict:
    """Write a complete segment under a temporary name, sync it, rename it to `name`; return its manifest entry."""
    from safetensors.numpy import save

    final = segment_dir(root, name)
    if final.exists():
        raise StoreCorruptError(f"segment {final} exists but is not in the manifest; it will be cleaned up by "
                                "the next write — try again")
    tmp = final.parent / f"{_TMP_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
    except OSError as exc:
        raise _write_error(root, exc) from None
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    blobs = {
        EMBEDDINGS_FILE: save({"embedding": np.ascontiguousarray(embedding),
                               "mirror_embedding": np.ascontiguousarray(mirror_embedding)}, metadata=meta),
        MOTIONS_FILE: save({"joints": np.ascontiguousarray(joints, dtype=np.float32),
                            "features": np.ascontiguousarray(features, dtype=np.float32)}, metadata=meta),
        RECORDS_FILE: json.dumps({"format_version": FORMAT_VERSION, "motions": [r.to_dict() for r in records]},
                                 ensure_ascii=False).encode("utf-8"),
        **(extra or {}),  # e.g. the windows of long motions (windows_file.py); listed in "bytes" like the rest
    }
    with _folder_commit(root, tmp, final):
        for fname, data in blobs.items():
            with open(tmp / fname, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    return {"name": name, "count": len(records), "removed": [], "bytes": {k: len(v) for k, v in blobs.items()},
            "sha256": {k: hashlib.sha256(v).hexdigest() for k, v in blobs.items()}}


@contextmanager
def _folder_commit(root: Path, tmp: Path, final: Path) -> Iterator[None]:
    """Fill `tmp` in the with-block; then it is synced and renamed to `final`. On any error `tmp` is removed and an
    OSError becomes a StoreError that says what to do."""
    try:
        yield
        sync_folder(tmp)
        os.replace(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_error(root, exc) from None
        raise
    sync_folder(final.parent)


def link_segment(src_root: Path, seg: dict, root: Path, name: str) -> None:
    """Put committed segment `seg` of another store into `root` as `name` (unlisted until a manifest commits it).

    Hard links (a copy across file systems) of every file its entry lists, into a temporary folder, synced
    and renamed, as write_segment.
    """
    src, final = segment_dir(src_root, seg["name"]), segment_dir(root, name)
    tmp = final.parent / f"{_TMP_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
    with _folder_commit(root, tmp, final):
        tmp.mkdir(parents=True)
        for fname in seg.get("bytes") or SEGMENT_FILES:
            try:
                os.link(src / fname, tmp / fname)
            except OSError:
                shutil.copy2(src / fname, tmp / fname)


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
        records_bytes, emb_bytes = (d / RECORDS_FILE).read_bytes(), (d / EMBEDDINGS_FILE).read_bytes()
        check_sha256(root, seg, RECORDS_FILE, records_bytes)
        check_sha256(root, seg, EMBEDDINGS_FILE, emb_bytes)
        raw = json.loads(records_bytes.decode("utf-8"))["motions"]
        tensors = load(emb_bytes)
        emb, mirror = tensors["embedding"], tensors["mirror_embedding"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, SafetensorError) as exc:
        raise StoreCorruptError(f"store {root} is damaged: segment {d} is unreadable ({type(exc).__name__}: {exc}). "
                                "Rebuild the store with `lavimo index`, or restore it from a backup") from None
    n = int(seg["count"])
    for what, arr in (("embedding", emb), ("mirror_embedding", mirror)):
        if arr.shape != (n, dim) or str(arr.dtype) != dtype:
            raise StoreCorruptError(f"store {root} is damaged: {d / EMBEDDINGS_FILE} {what} is {arr.dtype}{arr.shape}, "
                                    f"expected {dtype}({n}, {dim}). Rebuild the store with `lavimo index`")
        # Rows are unit vectors: a NaN or a flipped exponent bit (in a store without checksums) shows here.
        with np.errstate(over="ignore", invalid="ignore"):
            norms = np.linalg.norm(arr.astype(np.float32), axis=1)
        if not (np.abs(norms - 1) < 1e-2).all():
            row = int(np.argmax(~(np.abs(norms - 1) < 1e-2)))
            raise StoreCorruptError(f"store {root} is damaged: {d / EMBEDDINGS_FILE} {what} row {row} is not a unit "
                                    f"vector (norm {norms[row]:.3g}). Rebuild the store with `lavimo index`, or "
                                    "restore it from a backup")
    count = len(raw) if isinstance(raw, list) else 0
    if count != n:
        raise StoreCorruptError(f"store {root} is damaged: {d / RECORDS_FILE} has {count} records, expected {n}. "
                                "Rebuild the store with `lavimo index`")
    where = str(d / RECORDS_FILE)     # once, not per record: a Path join per row was a fifth of opening a store
    records = [MotionRecord.from_dict(r, where) for r in raw]
    ids = {r.id for r in records}     # once, not once per removed id
    bogus = [i for i in seg["removed"] if i not in ids]
    if bogus:  # counted against the segment, they would get its live motions dropped with it
        raise StoreCorruptError(f"store {root} is damaged: store.json lists removed motions {bogus[:3]} that segment "
                                f"{seg['name']} does not hold. Rebuild the store with `lavimo index`, or restore "
                                "store.json from a backup")
    removed = set(seg["removed"])
    if removed:
        keep = [i for i, r in enumerate(records) if r.id not in removed]
        records, emb, mirror = [records[i] for i in keep], emb[keep], mirror[keep]
    return records, emb, mirror


def check_sha256(root: Path, seg: dict, fname: str, data: bytes) -> None:
    """Raise StoreCorruptError if the manifest records a sha256 for this segment file and `data` does not match."""
    want = seg.get("sha256", {}).get(fname)
    if want is not None and hashlib.sha256(data).hexdigest() != want:
        raise StoreCorruptError(f"store {root} is damaged: {segment_dir(root, seg['name']) / fname} does not match "
                                "its checksum (changed on disk since it was written: a bad disk, copy or edit). "
                                "Rebuild the store with `lavimo index`, or restore it from a backup")


def verify_segment(root: Path, seg: dict) -> bool:
    """Check every file of a segment against its recorded checksum; False if the segment has none (older store)."""
    if not seg.get("sha256"):
        return False
    _check_sizes(root, seg)
    for fname in seg["sha256"]:
        try:
            data = (segment_dir(root, seg["name"]) / fname).read_bytes()
        except OSError as exc:
            raise StoreCorruptError(f"store {root} is damaged: cannot read {fname} of segment {seg['name']} "
                                    f"({exc.strerror or exc}). Rebuild the store with `lavimo index`") from None
        check_sha256(root, seg, fname, data)
    return True


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


def is_debris(p: Path, in_segments: bool, manifest: dict | None = None) -> bool:
    """True if `p` (in segments/ or the store root) is something an interrupted write of this code left behind."""
    if p.is_symlink():  # never created by a store: not ours to delete, and never followed
        return False
    if not in_segments:
        return p.is_file() and bool(_ROOT_TMP.match(p.name))
    if not p.is_dir():
        return False
    if _SEGMENT_TMP.match(p.name):
        return True
    if manifest is None or not _SEGMENT_NAME.match(p.name) or p.name in {s["name"] for s in manifest["segments"]}:
        return False
    # Dropped by a commit (trash), or written but never committed (numbered from next_segment on); anything
    # else unlisted was dropped from store.json by hand: its motions may still be wanted, so it stays.
    return p.name in manifest.get("trash", []) or int(p.name) >= manifest["next_segment"]


def remove_debris(root: Path, manifest: dict) -> list[str]:
    """Delete what interrupted writes left (unlisted segment folders, temp files); call under the lock.

    Only names this code creates are deleted, never through a symbolic link: anything else is the user's.
    """
    removed = []
    seg_root = Path(root) / SEGMENTS
    candidates = [(p, False) for p in Path(root).iterdir() if p.name.startswith(".")]  # _ROOT_TMP picks ours
    if seg_root.is_dir() and not seg_root.is_symlink():
        candidates += [(p, True) for p in seg_root.iterdir()]
    for p, in_segments in candidates:
        if is_debris(p, in_segments, manifest):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


def foreign_entries(root: Path) -> list[str]:
    """Entries of the store folder `root` that a store never creates (the user's files), relative to `root`."""
    root = Path(root)
    ours = {MANIFEST, LOCK, FAISS_FILE, SEGMENTS}
    out = [p.name for p in root.iterdir() if (p.name not in ours or p.is_symlink()) and not is_debris(p, False)]
    seg_root = root / SEGMENTS
    if seg_root.is_dir() and not seg_root.is_symlink():
        out += [f"{SEGMENTS}/{p.name}" for p in seg_root.iterdir()
                if p.is_symlink() or not p.is_dir() or not (_SEGMENT_NAME.match(p.name) or _SEGMENT_TMP.match(p.name))]
    return sorted(out)
