"""Index a motion library into a store: load, encode in chunks, commit each chunk; resumable, never half-built.

A new store is built in `OUT.partial/` next to OUT, each chunk committed atomically, and renamed to OUT
when complete; a build that is killed or cancelled leaves OUT untouched and is resumed by the next build
with the same model (motions already in OUT.partial are skipped). `append=True` adds the motions not yet in
an existing OUT (chunk by chunk, each commit atomic); `overwrite=True` replaces OUT once the new one is complete.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..motion.motion import Motion, SourceInfo
from . import format as fmt
from .encode import Cancel, Progress, check_motion, encode_motions, invalid_rows
from .errors import StoreError, StoreModelMismatchError
from .format import MANIFEST, SEGMENTS, foreign_entries
from .records import source_key
from .store import Store

if TYPE_CHECKING:
    from ..model.embedder import Embedder

PARTIAL_SUFFIX = ".partial"


@dataclass
class BuildReport:
    """What a build did."""

    path: Path
    added: int = 0
    already_present: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): unreadable or invalid inputs
    seconds: float = 0.0
    resumed: bool = False

    @property
    def motions_per_second(self) -> float:
        """Throughput of this build (added motions / wall time)."""
        return self.added / self.seconds if self.seconds > 0 else 0.0


def load_source(source: str | os.PathLike, *, progress: bool = False) -> tuple[list[Motion], list[tuple[str, str]]]:
    """Motions of a dataset spec ("bandai-namco-1", a HumanML3D root, a folder of BVH files) or one motion file."""
    path = Path(source).expanduser()
    if path.is_file():
        from ..motion.load import load_motion
        return [load_motion(path)], []
    from ..data import load_dataset
    ds = load_dataset(str(source), progress=progress)
    for m in ds.motions:  # the dataset's provenance where a loader left the clip's empty
        m.source.license = m.source.license or ds.license
        m.source.attribution = m.source.attribution or ds.attribution
    return list(ds.motions), list(ds.skipped)


def _key(name: str, source: SourceInfo) -> tuple[str, str]:
    return name, source_key(source.path)


def check_output(out: str | os.PathLike, *, append: bool = False, overwrite: bool = False) -> bool:
    """Refuse (StoreError) an output the build could not write or would wrongly replace; True if a store is there.

    Called before loading any motion, so a bad --out costs nothing.
    """
    out = Path(out).expanduser()
    exists = (out / MANIFEST).is_file()
    if out.exists() and not exists and (not out.is_dir() or any(out.iterdir())):
        raise StoreError(f"{out} exists and is not a LAVIMO store; choose another output path")
    if exists and not (append or overwrite):
        raise StoreError(f"a store already exists at {out}; use --append to add the new motions to it, "
                         "or --overwrite to replace it")
    if exists:
        check_writable(out)
    elif not out.parent.is_dir():
        raise StoreError(f"cannot create {out}: the folder {out.parent} does not exist; create it first")
    if overwrite and exists and (foreign := foreign_entries(out)):
        raise StoreError(f"{out} holds files that are not part of the store ({', '.join(foreign[:5])}); "
                         "--overwrite would delete them: move them out of the folder first")
    return exists


def check_writable(folder: Path) -> None:
    """Refuse (StoreError) before any work when `folder` cannot be written (a read-only store or parent)."""
    dirs = [folder] + ([folder / SEGMENTS] if (folder / SEGMENTS).is_dir() else [])
    if not all(os.access(d, os.W_OK | os.X_OK) for d in dirs):
        raise StoreError(f"cannot write to {folder} (permission denied); make it writable (e.g. chmod -R u+w), "
                         "or choose another --out")


def _remove_stale_creations(target: Path) -> None:
    """Delete `.NAME.creating-*` folders a Store.create killed midway left beside `target` (only our files in them)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.creating-[0-9a-f]{{8}}$")
    for p in target.parent.iterdir():
        if pattern.match(p.name) and p.is_dir() and not p.is_symlink() and not foreign_entries(p):
            shutil.rmtree(p, ignore_errors=True)


def _resume_partial(target: Path, embedder: Embedder, report: BuildReport) -> Store | None:
    """The interrupted build at `target` to resume, or None (nothing there, or ours for another model: removed)."""
    if (target / MANIFEST).is_file():
        try:
            store = Store.open(target, embedder)
        except StoreModelMismatchError:  # an interrupted build for another model: ours, so start over
            if foreign_entries(target):
                raise StoreError(f"{target} holds files that a build never writes; move it away and run again") from None
            shutil.rmtree(target)
            return None
        except StoreError as exc:
            if foreign_entries(target):
                raise StoreError(f"the interrupted build in {target} cannot be resumed ({exc}); delete that folder "
                                 "and run the build again") from None
            shutil.rmtree(target)  # only our files, damaged (e.g. killed while deleting it): start over
            return None
        report.resumed = True
        return store
    if target.is_dir() and not target.is_symlink() and (target / SEGMENTS).is_dir() and not foreign_entries(target):
        shutil.rmtree(target)  # a finished build's leftover, killed while being deleted: only our files
    elif target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        target.rmdir()
    elif target.exists() or target.is_symlink():  # not something a build made: never delete it
        raise StoreError(f"{target} exists and is not an interrupted LAVIMO build; the build needs that name for "
                         "its work in progress: move it away, or choose another --out")
    return None


def _replace_store(new: Path, out: Path) -> None:
    """Make the store at `out` hold exactly the complete store at `new`, then delete `new`.

    Swapping folders with two renames left no store at OUT when killed between them; here the new segments
    are linked into OUT unlisted and one manifest commit switches it: a kill leaves the old store or the new.
    """
    manifest = fmt.read_manifest(new)
    with fmt.write_lock(out):
        old = fmt.read_manifest(out)
        fmt.remove_debris(out, old)
        n, segments = old["next_segment"], []
        for seg in manifest["segments"]:
            fmt.link_segment(new, seg, out, f"{n:06d}")
            segments.append(dict(seg, name=f"{n:06d}"))
            n += 1
        manifest = {k: v for k, v in manifest.items() if k not in ("faiss", "trash")}
        fmt.write_manifest(out, fmt.with_trash(dict(manifest, segments=segments, next_segment=n),
                                               [s["name"] for s in old["segments"]] + old.get("trash", [])))
        for seg in old["segments"]:
            shutil.rmtree(fmt.segment_dir(out, seg["name"]), ignore_errors=True)
        if "faiss" in old:
            (out / fmt.FAISS_FILE).unlink(missing_ok=True)
    (new / MANIFEST).unlink()  # first, so a kill while deleting leaves no half store that looks resumable
    shutil.rmtree(new)


def build_store(motions: list[Motion], embedder: Embedder, out: str | os.PathLike, *, model_path: str | os.PathLike | None = None,
                dtype: str = "float32", append: bool = False, overwrite: bool = False, chunk: int = 256,
                batch_size: int = 32, progress: Progress | None = None, cancel: Cancel | None = None) -> BuildReport:
    """Encode `motions` with `embedder` into the store at `out` (see the module docstring for the modes)."""
    out = Path(out).expanduser()
    t0 = time.perf_counter()
    report = BuildReport(out)
    exists = check_output(out, append=append, overwrite=overwrite)
    if append and exists:
        store = Store.open(out, embedder)
        target = out
    else:
        target = out.with_name(out.name + PARTIAL_SUFFIX)
        store = _resume_partial(target, embedder, report)
        if store is None:
            check_writable(target.parent)
            _remove_stale_creations(target)
            try:
                store = Store.create(target, embedder, dtype=dtype, model_path=model_path)
            except OSError as exc:
                raise StoreError(f"cannot create {target} ({exc.strerror or exc}); make {target.parent} writable "
                                 "or choose another --out") from None
    present = {_key(r.name, r.source) for r in map(store.record, store.ids())}
    todo = [m for m in motions if _key(m.name, m.source) not in present]
    report.already_present = len(motions) - len(todo)
    done = 0
    for i in range(0, len(todo), chunk):
        part = todo[i:i + chunk]
        valid = []
        for m in part:
            try:
                valid.append(check_motion(m))
            except StoreError as exc:  # one bad clip does not stop a library build
                report.skipped.append((m.source.path or m.name, str(exc)))

        def sub(fraction: float, _message: str, _n: int = len(valid), _done: int = done) -> None:
            if progress is not None:
                progress((_done + fraction * _n) / len(todo), f"encoded {_done + round(fraction * _n)}/{len(todo)} motions")

        emb, mir = encode_motions(embedder, valid, batch_size=batch_size, progress=sub, cancel=cancel, normalise=False)
        bad = invalid_rows(emb) | invalid_rows(mir)
        for m in (m for m, b in zip(valid, bad) if b):  # e.g. a clip far outside what the model saw
            report.skipped.append((m.source.path or m.name, f"motion {m.name!r}: the model produced an invalid "
                                   "(NaN, infinite or zero) embedding for it; check the clip, or report it"))
        good = [m for m, b in zip(valid, bad) if not b]
        # Decided again under the lock: another process may have added some of them since `todo` was made.
        added = store.add(good, embeddings=emb[~bad], mirror_embeddings=mir[~bad], cancel=cancel, skip_present=True)
        done += len(valid)
        report.added += len(added)
        report.already_present += len(good) - len(added)
    if target != out:
        if exists:  # overwrite: one manifest commit in OUT switches it to the new store
            _replace_store(target, out)
        else:
            if out.exists():
                out.rmdir()  # an empty folder the user made for it
            os.replace(target, out)
    if progress is not None:
        progress(1.0, f"indexed {report.added} motions into {out}")
    report.seconds = time.perf_counter() - t0
    return report
