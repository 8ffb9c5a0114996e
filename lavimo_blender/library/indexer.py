"""Index a folder of BVH files into a store (runs on a worker thread; no bpy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lavimo_core.errors import LavimoError

STORE_DIR_NAME = "lavimo_store"
LOAD_SHARE = 0.3  # of the progress bar: reading files; the rest is encoding


class LibraryError(LavimoError):
    """The folder cannot be indexed; the message says why."""


def default_store_path(folder: str) -> str:
    """Where a folder's store goes when the user does not say: inside it."""
    return str(Path(folder) / STORE_DIR_NAME)


def check_folder(folder: str) -> str:
    """An error message when `folder` cannot be indexed ("" when it can)."""
    if not folder:
        return "No folder chosen: pick the folder that holds your .bvh files"
    path = Path(folder)
    if not path.is_dir():
        return f"Folder not found: {folder}"
    if not any(p.suffix.lower() == ".bvh" for p in path.rglob("*") if p.is_file()):
        return f"No .bvh files in {folder} (sub-folders included); LAVIMO indexes BVH files"
    return ""


def index_folder(folder: str, store_path: str, model_path: str, device: str,
                 progress: Callable[[float, str], None], cancelled: Callable[[], bool], embedder=None):
    """Load every BVH in `folder` and add it to the store at `store_path` (created if needed); returns BuildReport."""
    from lavimo_core.store.build import build_store, load_source
    from lavimo_core.store.format import MANIFEST

    from ..engine_session import load_embedder

    progress(0.0, f"Reading the BVH files in {Path(folder).name}…")
    motions, skipped = load_source(folder)
    if cancelled():
        raise LavimoError("indexing cancelled; the store was not changed")
    if not motions:
        reasons = "; ".join(f"{Path(f).name}: {r}" for f, r in skipped[:3])
        raise LibraryError(f"none of the BVH files in {folder} could be read ({reasons})")
    progress(LOAD_SHARE, f"Loading the model to encode {len(motions)} motions…")
    embedder = embedder or load_embedder(model_path, device)
    append = (Path(store_path) / MANIFEST).is_file()
    report = build_store(motions, embedder, store_path, model_path=model_path, append=append,
                         progress=lambda f, m: progress(LOAD_SHARE + (1 - LOAD_SHARE) * f, m), cancel=cancelled)
    report.skipped = list(skipped) + list(report.skipped)
    return report
