"""`Store`: motion embeddings, canonical motions and metadata in a folder (see format.py): open, add, remove,
compact, the optional faiss index; searching it is search.py's job."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import write_atomic
from ..motion.motion import Motion, SourceInfo
from . import format as fmt
from . import search
from .encode import Cancel, Progress, check_motion, encode_motions, encode_windows, normalise_rows
from .errors import StoreError, StoreModelMismatchError
from .filters import Filters
from .folding import DUPLICATE_THRESHOLD, MIRROR_THRESHOLD
from .moments import STRIDE_FRACTION, long_motion_spans, model_window_lengths
from .records import MotionRecord, source_key
from .search import Hit, QueryPart, Rows, Windows
from .windows_file import WINDOW_DTYPE, read_windows, windows_blob

if TYPE_CHECKING:
    from ..model.embedder import Embedder
    from .faiss_index import FaissIndex

log = logging.getLogger(__name__)


RELOAD_TRIES = 5  # manifests re-read when a concurrent writer changed the store while it was being read


class Store:
    """A searchable motion library on disk. Use Store.open or Store.create; safe to share between threads."""

    def __init__(self, root: Path, manifest: dict, embedder: Embedder | fmt.ModelIdentity | None = None):
        self.path = Path(root)
        self.model = fmt.ModelIdentity.from_dict(manifest["model"])
        self.dtype = manifest["dtype"]
        # Window lengths for moment search (format 2); None: long motions are searched whole (format 1 stores).
        spec = manifest.get("windows")
        self.window_lengths: tuple[int, ...] | None = tuple(spec["lengths"]) if spec else None
        self.calibration = getattr(embedder, "calibration", None)
        self.embedder = embedder if hasattr(embedder, "embed_motion") else None  # a bare ModelIdentity cannot encode
        self.fold_thresholds = (DUPLICATE_THRESHOLD, MIRROR_THRESHOLD)
        self.use_faiss = True  # use a valid faiss.index when faiss is installed (see faiss_index.py)
        self._faiss: FaissIndex | None = None
        self._lock = threading.RLock()
        self._load(manifest)

    # ------------------------------------------------------------ open / create

    @classmethod
    def open(cls, path: str | os.PathLike, embedder: Embedder | fmt.ModelIdentity | None = None) -> Store:
        """Open the store at `path`; with an embedder, refuse (StoreModelMismatchError) if it is another model."""
        root = Path(path).expanduser()
        manifest = fmt.read_manifest(root)
        if embedder is not None:
            check_model(root, fmt.ModelIdentity.from_dict(manifest["model"]), embedder)
        return cls(root, manifest, embedder)

    @classmethod
    def create(cls, path: str | os.PathLike, embedder: Embedder | fmt.ModelIdentity, *, dtype: str = "float32",
               model_path: str | os.PathLike | None = None) -> Store:
        """Create an empty store at `path` (which must not exist or be an empty folder) for `embedder`'s model."""
        root = Path(path).expanduser()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StoreError(f"cannot create a store at {root}: it already exists and is not empty. Choose another "
                             "path, open it to add motions, or remove it first")
        lengths = model_window_lengths(embedder)
        windows = {"lengths": list(lengths), "stride_fraction": STRIDE_FRACTION} if lengths else None
        manifest = fmt.new_manifest(fmt.ModelIdentity.of(embedder, model_path), dtype, windows)
        tmp = root.with_name(f".{root.name}.creating-{uuid.uuid4().hex[:8]}")
        try:
            (tmp / fmt.SEGMENTS).mkdir(parents=True)
            fmt.write_manifest(tmp, manifest)
            if root.exists():
                root.rmdir()
            os.replace(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls(root, fmt.read_manifest(root), embedder)

    def attach(self, embedder: Embedder) -> None:
        """Use `embedder` for adding motions and for calibrated probabilities (refused if it is another model)."""
        check_model(self.path, self.model, embedder)
        self.embedder = embedder
        self.calibration = getattr(embedder, "calibration", None)

    def _load(self, manifest: dict) -> None:
        # Readers take no lock: a writer may commit and delete a dropped segment between our reading the
        # manifest and its files. Then the manifest on disk has changed, so read that one; if it has not,
        # the files really are damaged.
        for _ in range(RELOAD_TRIES):
            try:
                return self._read_rows(manifest)
            except fmt.StoreCorruptError:
                on_disk = fmt.read_manifest(self.path)
                if on_disk == manifest:
                    raise
                manifest = on_disk
        self._read_rows(manifest)

    def _read_rows(self, manifest: dict) -> None:
        records, rows_seg, embs, mirrors = [], [], [], []
        dim, dt = self.model.dim, np.dtype(self.dtype)
        windows = _no_windows(dim)
        for seg in manifest["segments"]:
            recs, emb, mir = fmt.read_segment(self.path, seg, self.dtype, self.model.dim)
            windows = windows.then(Windows(*read_windows(self.path, seg, dim)), len(records))
            records += recs
            rows_seg += [seg["name"]] * len(recs)
            embs.append(emb)
            mirrors.append(mir)
        self._manifest = manifest
        self._set_rows(Rows(records, rows_seg, np.concatenate(embs) if embs else np.zeros((0, dim), dt),
                            np.concatenate(mirrors) if mirrors else np.zeros((0, dim), dt), windows))

    def _set_rows(self, rows: Rows) -> None:
        if len(rows.row_of) != len(rows):
            raise fmt.StoreCorruptError(f"store {self.path} is damaged: motion ids are not unique; rebuild it "
                                        "with `lavimo index`")
        self._rows = rows
        self._ids_hash: str | None = None

    def _reload_if_changed(self) -> None:
        # Called under the write lock: another process may have committed since we read the manifest.
        on_disk = fmt.read_manifest(self.path)
        if on_disk["segments"] != self._manifest["segments"]:
            self._load(on_disk)
        else:
            self._manifest = on_disk

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, motion_id: str) -> bool:
        return motion_id in self._rows.row_of

    def ids(self) -> list[str]:
        """All motion ids, in store order."""
        return [r.id for r in self._rows.records]

    def record(self, motion_id: str) -> MotionRecord:
        """The metadata record of a motion (see records.py)."""
        return self._rows.records[self._row(motion_id)]

    def rows(self) -> Rows:
        """A consistent snapshot of the live motions: records and embedding matrices, row by row (see search.Rows)."""
        return self._rows

    def embedding(self, motion_id: str, mirror: bool = False) -> np.ndarray:
        """A motion's stored embedding (or its mirror image's), float32 (dim,)."""
        row = self._row(motion_id)
        return np.asarray((self._rows.mirror if mirror else self._rows.emb)[row], dtype=np.float32)

    def ids_from_source(self, path: str | os.PathLike) -> list[str]:
        """Ids of motions whose source file is `path` (compared after resolving)."""
        want = source_key(path)
        return [r.id for r in self._rows.records if source_key(r.source.path) == want]

    def motion(self, motion_id: str) -> Motion:
        """The canonical Motion (joints, features, captions, labels, source) of a stored motion."""
        with self._lock:
            row = self._row(motion_id)
            rec, seg = self._rows.records[row], self._rows.segments[row]
        joints, feats = fmt.read_motion_arrays(self.path, seg, rec)
        return Motion(name=rec.name, joints=joints, fps=rec.fps, captions=list(rec.captions), labels=dict(rec.labels),
                      source=SourceInfo(**vars(rec.source)), features=feats)

    def verify(self) -> int:
        """Check every segment file against its checksum and read every motion back; return how many segments had
        checksums (stores written before them have none). Raises StoreCorruptError naming the damaged file."""
        checked = sum(fmt.verify_segment(self.path, seg) for seg in self._manifest["segments"])
        for mid in self.ids():
            joints, feats = fmt.read_motion_arrays(self.path, self._rows.segments[self._row(mid)], self.record(mid))
            if not (np.isfinite(joints).all() and np.isfinite(feats).all()):
                raise fmt.StoreCorruptError(f"store {self.path} is damaged: motion {mid!r} has NaN or infinite "
                                            "values. Rebuild the store with `lavimo index`")
        return checked

    def info(self) -> dict:
        """A summary for `lavimo info`: model, format, counts, duration, licenses, sizes."""
        licenses: dict[str, int] = {}
        for r in self._rows.records:
            key = " / ".join(x for x in (r.source.license, r.source.attribution) if x) or "unknown"
            licenses[key] = licenses.get(key, 0) + 1
        m = self._manifest
        size = _bytes(m["segments"])
        return {"path": str(self.path), "format_version": m["format_version"], "created": m["created"],
                "updated": m["updated"], "model": self.model.to_dict(), "dtype": self.dtype, "motions": len(self),
                "segments": len(m["segments"]), "removed_pending_compaction": sum(len(s["removed"]) for s in m["segments"]),
                "total_duration_s": float(self._rows.durations.sum()), "bytes": size, "licenses": licenses,
                "faiss_index": self.faiss_status(), "window_lengths": list(self.window_lengths or []),
                "windows": len(self._rows.windows) if self._rows.windows is not None else 0,
                "long_motions_searched_whole": self.long_motions_searched_whole()}

    def long_motions_searched_whole(self) -> int:
        """How many motions are longer than the model's training crops yet have no windows (a format 1 store):
        a query matches them as a whole take, not the moment inside; rebuilding the store fixes it."""
        if self.window_lengths is not None:
            return 0
        lengths = model_window_lengths(self.embedder) if self.embedder is not None else None
        longest = max(lengths) if lengths else 120  # without the model: the default model's longest crop (frames)
        return int(sum(r.frames > longest for r in self._rows.records))

    def _row(self, motion_id: str) -> int:
        try:
            return self._rows.row_of[motion_id]
        except KeyError:
            raise StoreError(f"no motion {motion_id!r} in store {self.path}") from None

    def _ids_sha256(self) -> str:
        if self._ids_hash is None:
            self._ids_hash = hashlib.sha256("\n".join(self.ids()).encode("utf-8")).hexdigest()
        return self._ids_hash

    def faiss_status(self) -> str:
        """"none", "ready", "stale" (store changed since it was built) or "unavailable" (faiss not installed)."""
        entry = self._manifest.get("faiss")
        if not entry:
            return "none"
        if entry["ids_sha256"] != self._ids_sha256():
            return "stale"
        from .faiss_index import available
        return "ready" if available() else "unavailable"

    def _faiss_index(self):
        if self._faiss is None and self.faiss_status() == "ready":
            from .faiss_index import FaissIndex
            entry = self._manifest["faiss"]
            try:
                data = (self.path / entry["file"]).read_bytes()
                # Checked before faiss parses it: damaged bytes can make a C++ reader allocate or crash.
                if len(data) != entry.get("bytes", len(data)) or (
                        entry.get("sha256") and hashlib.sha256(data).hexdigest() != entry["sha256"]):
                    raise StoreError("its size or checksum does not match store.json")
                self._faiss = FaissIndex.from_bytes(data)
            except Exception as exc:  # exact search is always correct: fall back to it
                log.warning("ignoring damaged faiss index in %s (%s); searching exactly", self.path, exc)
                self.use_faiss = False
                return None
            if len(self._faiss) != len(self):
                self._faiss, self.use_faiss = None, False
        return self._faiss

    # ------------------------------------------------------------ writing

    def build_faiss_index(self) -> None:
        """Build and save an HNSW index for approximate search of very large stores (needs faiss-cpu)."""
        from .faiss_index import FaissIndex, available
        if not available():
            raise StoreError("faiss is not installed (pip install faiss-cpu); exact search needs no index and is "
                             "fast up to a few million motions")
        with self._lock, fmt.write_lock(self.path):
            self._reload_if_changed()
            index = FaissIndex.build(self._rows.emb)
            data = index.to_bytes()
            write_atomic(self.path / fmt.FAISS_FILE, data)
            fmt.write_manifest(self.path, dict(self._manifest, faiss={
                "file": fmt.FAISS_FILE, "ids_sha256": self._ids_sha256(), "rows": len(self), "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}))
            self._manifest = fmt.read_manifest(self.path)
            self._faiss, self.use_faiss = index, True

    def _commit(self, manifest: dict) -> None:
        # Every change of the motions makes a faiss index stale: drop it in the same commit.
        had_faiss = manifest.pop("faiss", None) is not None
        fmt.write_manifest(self.path, manifest)
        self._manifest = fmt.read_manifest(self.path)
        if had_faiss:
            (self.path / fmt.FAISS_FILE).unlink(missing_ok=True)
            self._faiss = None


    def add(self, motions: Sequence[Motion], *, embeddings: np.ndarray | None = None,
            mirror_embeddings: np.ndarray | None = None, window_embeddings: np.ndarray | None = None,
            batch_size: int = 32, progress: Progress | None = None, cancel: Cancel | None = None,
            skip_present: bool = False) -> list[str]:
        """Encode (unless embeddings are given) and add motions as one new segment; return their ids.

        A store with window lengths (format 2) also embeds the windows of each long motion (or takes them from
        `window_embeddings`, in moments.long_motion_spans order). Atomic: if anything fails or `cancel()` turns
        true, the store is unchanged. `skip_present`: leave out motions whose name and source file are already in
        the store (or earlier in `motions`), decided under the write lock, so concurrent appends of one folder add
        each motion once.
        """
        motions = [check_motion(m) for m in motions]
        if not motions:
            return []
        if embeddings is None or mirror_embeddings is None:
            if self.embedder is None:
                raise StoreError("this store was opened without a model, so it cannot encode motions; open it with "
                                 "Store.open(path, embedder) or pass embeddings")
            embeddings, mirror_embeddings = encode_motions(self.embedder, motions, batch_size=batch_size,
                                                           progress=progress, cancel=cancel)
        embeddings = normalise_rows(embeddings, "embeddings")
        mirror_embeddings = normalise_rows(mirror_embeddings, "mirror embeddings")
        for what, arr in (("embeddings", embeddings), ("mirror embeddings", mirror_embeddings)):
            if arr.shape != (len(motions), self.model.dim):
                raise StoreError(f"{what} must be ({len(motions)}, {self.model.dim}), got {arr.shape}")
        windows = self._windows_of(motions, window_embeddings, batch_size, cancel)
        if cancel is not None and cancel():
            from .encode import BuildCancelled
            raise BuildCancelled("cancelled before writing; nothing was added")
        dt = np.dtype(self.dtype)
        with self._lock, fmt.write_lock(self.path):
            self._reload_if_changed()
            fmt.remove_debris(self.path, self._manifest)
            if skip_present:
                present = {(r.name, source_key(r.source.path)) for r in self._rows.records}
                keep = []
                for i, m in enumerate(motions):
                    key = (m.name, source_key(m.source.path))
                    if key not in present:
                        present.add(key)
                        keep.append(i)
                if len(keep) < len(motions):
                    windows = windows.keep_rows(keep, len(motions))   # owners are indexes into `motions`
                    motions = [motions[i] for i in keep]
                    embeddings, mirror_embeddings = embeddings[keep], mirror_embeddings[keep]
                if not motions:
                    return []
            taken = set(self._rows.row_of)
            records, joints, feats = [], [], []
            j_off = f_off = 0
            for m in motions:
                mid = _unique_id(m.name, taken)
                taken.add(mid)
                records.append(MotionRecord.of(mid, m, j_off, f_off))
                joints.append(m.joints)
                feats.append(m.features)
                j_off += m.num_frames
                f_off += len(m.features)
            manifest = dict(self._manifest)
            name = f"{manifest['next_segment']:06d}"
            entry = fmt.write_segment(self.path, name, records, embeddings.astype(dt), mirror_embeddings.astype(dt),
                                      np.concatenate(joints), np.concatenate(feats),
                                      windows_blob(windows.emb, windows.owner, windows.span))
            manifest["segments"] = manifest["segments"] + [entry]
            manifest["next_segment"] = manifest["next_segment"] + 1
            try:
                self._commit(manifest)
            except BaseException:
                shutil.rmtree(fmt.segment_dir(self.path, name), ignore_errors=True)
                raise
            old = self._rows
            self._set_rows(Rows(old.records + records, old.segments + [name] * len(records),
                                np.concatenate([old.emb, embeddings.astype(dt)]),
                                np.concatenate([old.mirror, mirror_embeddings.astype(dt)]),
                                _windows(old).then(windows, len(old))))
        return [r.id for r in records]

    def _windows_of(self, motions: list[Motion], given: np.ndarray | None, batch_size: int,
                    cancel: Cancel | None) -> Windows:
        """The windows of the long ones among `motions` (owner: index in `motions`): given, or encoded."""
        dim = self.model.dim
        spans = [long_motion_spans(m.num_frames, self.window_lengths) for m in motions]
        count = sum(len(s) for s in spans)
        if count == 0:
            return _no_windows(dim)
        if given is None:
            if self.embedder is None:
                raise StoreError("this store searches inside long motions, so adding them needs their window "
                                 "embeddings: open it with Store.open(path, embedder) or pass window_embeddings")
            emb, owner, span = encode_windows(self.embedder, motions, self.window_lengths, batch_size=batch_size,
                                              cancel=cancel)
            return Windows(emb.astype(WINDOW_DTYPE), owner, span)
        given = normalise_rows(given, "window embeddings")
        if given.shape != (count, dim):
            raise StoreError(f"window embeddings must be ({count}, {dim}) for these motions' windows, got {given.shape}")
        owner = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(spans)])
        return Windows(given.astype(WINDOW_DTYPE), owner, np.concatenate(spans))

    def remove(self, motion_ids: Iterable[str]) -> None:
        """Remove motions (no re-encoding of the others); atomic. Unknown ids raise StoreError and change nothing."""
        ids = list(dict.fromkeys(motion_ids))
        with self._lock, fmt.write_lock(self.path):
            self._reload_if_changed()
            old = self._rows
            unknown = [i for i in ids if i not in old.row_of]
            if unknown:
                raise StoreError(f"not in store {self.path}: {', '.join(map(repr, unknown[:10]))}"
                                 + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "") + "; nothing removed")
            by_seg: dict[str, list[str]] = {}
            for i in ids:
                by_seg.setdefault(old.segments[old.row_of[i]], []).append(i)
            segments: list[dict] = []
            dropped: list[dict] = []
            for seg in self._manifest["segments"]:
                seg = dict(seg, removed=seg["removed"] + by_seg.get(seg["name"], []))
                (dropped if len(seg["removed"]) >= seg["count"] else segments).append(seg)
            self._commit(fmt.with_trash(dict(self._manifest, segments=segments), [s["name"] for s in dropped]))
            for seg in dropped:
                shutil.rmtree(fmt.segment_dir(self.path, seg["name"]), ignore_errors=True)
            gone = set(ids)
            keep = [i for i, r in enumerate(old.records) if r.id not in gone]
            self._set_rows(Rows([old.records[i] for i in keep], [old.segments[i] for i in keep], old.emb[keep],
                                old.mirror[keep], _windows(old).keep_rows(keep, len(old))))

    def compact(self) -> int:
        """Rewrite segments that have removed motions, dropping them (no re-encoding); return bytes freed."""
        with self._lock, fmt.write_lock(self.path):
            self._reload_if_changed()
            manifest = dict(self._manifest)
            old = [s for s in manifest["segments"] if s["removed"]]
            if not old:
                return 0
            segments, written, next_seg = [], [], manifest["next_segment"]
            for seg in manifest["segments"]:
                if not seg["removed"]:
                    segments.append(seg)
                    continue
                recs, emb, mir = fmt.read_segment(self.path, seg, self.dtype, self.model.dim)
                records, joints, feats, j_off, f_off = [], [], [], 0, 0
                for rec in recs:
                    j, f = fmt.read_motion_arrays(self.path, seg["name"], rec)
                    records.append(rec.at_offsets(j_off, f_off))
                    joints.append(j)
                    feats.append(f)
                    j_off, f_off = j_off + len(j), f_off + len(f)
                w_emb, w_owner, w_span = read_windows(self.path, seg, self.model.dim)
                entry = fmt.write_segment(self.path, f"{next_seg:06d}", records, emb, mir,
                                          np.concatenate(joints), np.concatenate(feats),
                                          windows_blob(w_emb, w_owner, w_span))
                next_seg += 1
                segments.append(entry)
                written.append(entry)
            self._commit(fmt.with_trash(dict(manifest, segments=segments, next_segment=next_seg), [s["name"] for s in old]))
            for seg in old:
                shutil.rmtree(fmt.segment_dir(self.path, seg["name"]), ignore_errors=True)
            self._load(fmt.read_manifest(self.path))
            return _bytes(old) - _bytes(written)

    # ------------------------------------------------------------ search (search.py ranks; this picks the index)

    def search(self, query: np.ndarray, kind: str = "text", k: int = 10, filters: Filters | None = None,
               fold: bool = True, exclude: Iterable[str] = ()) -> list[Hit]:
        """Top-k motions for one query embedding of `kind` ("text", "video" or "motion")."""
        return self.search_combined([QueryPart(query, kind, 1.0)], k=k, filters=filters, fold=fold, exclude=exclude)

    def search_combined(self, parts: Sequence[QueryPart], k: int = 10, filters: Filters | None = None,
                        fold: bool = True, exclude: Iterable[str] = ()) -> list[Hit]:
        """Top-k motions for a weighted combination of query embeddings (see search.search)."""
        with self._lock:
            index = self._faiss_index() if self.use_faiss else None
            return search.search(self._rows, parts, model=self.model, k=k, filters=filters, fold_results=fold,
                                 exclude=exclude, calibration=self.calibration, index=index,
                                 fold_thresholds=self.fold_thresholds)

    def library_probability(self, parts: Sequence[QueryPart], motion_id: str) -> float | None:
        """P(the library holds a match for the query) from its best hit; None when unknown (search.library_probability)."""
        return search.library_probability(self._rows, parts, motion_id, model=self.model, calibration=self.calibration)


def check_model(root: Path, built_with: fmt.ModelIdentity, embedder: Embedder | fmt.ModelIdentity) -> None:
    """Raise StoreModelMismatchError unless `embedder` is the model the store at `root` was built with."""
    given = fmt.ModelIdentity.of(embedder)
    if given.weights_hash == built_with.weights_hash and given.dim == built_with.dim:
        return
    where = f" (from {built_with.path})" if built_with.path else ""
    raise StoreModelMismatchError(
        f"store {root} was built with model {built_with.model_id!r}{where}, weights sha256 "
        f"{built_with.weights_hash[:12]}, but the model given is {given.model_id!r}"
        + (f" ({given.path})" if given.path else "") + f", weights sha256 {given.weights_hash[:12]}: their embeddings "
        "are not comparable. Use the model the store was built with, or rebuild the store with this model: "
        "`lavimo index SOURCE --model CKPT --out STORE`")


def _no_windows(dim: int) -> Windows:
    return Windows(np.zeros((0, dim), WINDOW_DTYPE), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))


def _windows(rows: Rows) -> Windows:
    return rows.windows if rows.windows is not None else _no_windows(rows.emb.shape[1])


def _bytes(segments: list[dict]) -> int:
    return sum(sum(s.get("bytes", {}).values()) for s in segments)


def _unique_id(name: str, taken: set[str]) -> str:
    mid, n = name, 1
    while mid in taken:
        n += 1
        mid = f"{name}~{n}"
    return mid
