"""Where LAVIMO finds datasets and keeps its caches."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LavimoError

# The checkout's parent holds shared/ in development and CI; see README "Data".
_REPO_ROOT = Path(__file__).resolve().parent.parent


class DatasetNotFoundError(LavimoError, FileNotFoundError):
    """A dataset folder could not be located; the message says where we looked and what to do."""


def data_roots() -> list[Path]:
    """Folders searched for datasets, in order: $LAVIMO_DATA, ../shared/data, ./data."""
    roots = []
    if os.environ.get("LAVIMO_DATA"):
        roots.append(Path(os.environ["LAVIMO_DATA"]).expanduser())
    roots.append(_REPO_ROOT.parent / "shared" / "data")
    roots.append(_REPO_ROOT / "data")
    return roots


def find_dataset(name: str) -> Path:
    """Return the folder of dataset `name` (e.g. "bandai-namco-1") or raise DatasetNotFoundError."""
    tried = []
    for root in data_roots():
        # LAVIMO_DATA may point at the dataset itself or at a folder of datasets.
        for candidate in (root / name, root) if root.name == name else (root / name,):
            tried.append(candidate)
            if candidate.is_dir():
                return candidate
    raise DatasetNotFoundError(
        f"dataset {name!r} not found; looked in: " + ", ".join(str(p) for p in tried)
        + f". Set LAVIMO_DATA to the folder that contains {name}/."
    )


def cache_dir(*parts: str) -> Path:
    """A cache folder ($LAVIMO_CACHE, else ~/.cache/lavimo), created on demand."""
    base = os.environ.get("LAVIMO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "lavimo")
    path = Path(base).expanduser().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
