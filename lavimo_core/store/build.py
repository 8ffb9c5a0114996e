"""Index a motion library into a store: load, encode in chunks, commit each chunk; resumable, never half-built.

A new store is built in `OUT.partial/` next to OUT, each chunk committed atomically, and renamed to OUT
when complete; a build that is killed or cancelled leaves OUT untouched and is resumed by the next build
with the same model (motions already in OUT.partial are skipped). `append=True` adds the motions not yet in
an existing OUT (chunk by chunk, each commit atomic); `overwrite=True` replaces OUT once the new one is complete.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..motion.motion import Motion, SourceInfo
from .encode import Cancel, Progress, check_motion
from .errors import StoreError, StoreModelMismatchError
from .format import MANIFEST
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


def build_store(motions: list[Motion], embedder: "Embedder", out: str | os.PathLike, *, model_path: str | os.PathLike | None = None,
                dtype: str = "float32", append: bool = False, overwrite: bool = False, chunk: int = 256,
                batch_size: int = 32, progress: Progress | None = None, cancel: Cancel | None = None) -> BuildReport:
    """Encode `motions` with `embedder` into the store at `out` (see the module docstring for the modes)."""
    out = Path(out).expanduser()
    t0 = time.perf_counter()
    report = BuildReport(out)
    exists = (out / MANIFEST).is_file()
    if out.exists() and not exists and (not out.is_dir() or any(out.iterdir())):
        raise StoreError(f"{out} exists and is not a LAVIMO store; choose another output path")
    if exists and not (append or overwrite):
        raise StoreError(f"a store already exists at {out}; use --append to add the new motions to it, "
                         "or --overwrite to replace it")
    if append and exists:
        store = Store.open(out, embedder)
        target = out
    else:
        target = out.with_name(out.name + PARTIAL_SUFFIX)
        store = None
        if (target / MANIFEST).is_file():
            try:
                store = Store.open(target, embedder)
                report.resumed = True
            except StoreModelMismatchError:
                shutil.rmtree(target)  # an interrupted build for another model: start over
        elif target.exists():
            shutil.rmtree(target)
        if store is None:
            store = Store.create(target, embedder, dtype=dtype, model_path=model_path)
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

        def sub(fraction: float, _message: str, _n: int = len(valid)) -> None:
            if progress is not None:
                progress((done + fraction * _n) / len(todo), f"encoded {done + round(fraction * _n)}/{len(todo)} motions")

        store.add(valid, batch_size=batch_size, progress=sub, cancel=cancel)
        done += len(valid)
        report.added += len(valid)
    if target != out:
        if exists:  # overwrite: swap in the complete new store, then drop the old one
            old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(out, old)
            os.replace(target, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if out.exists():
                out.rmdir()  # an empty folder the user made for it
            os.replace(target, out)
    if progress is not None:
        progress(1.0, f"indexed {report.added} motions into {out}")
    report.seconds = time.perf_counter() - t0
    return report
