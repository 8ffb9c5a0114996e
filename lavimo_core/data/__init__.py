"""Datasets of canonical motions with captions and splits (Bandai-Namco 1 and 2, HumanML3D/KIT-ML, BVH folders).

`load_dataset` picks a loader from `LOADERS`: the first whose detector accepts the folder; a plain folder
of BVH files is the fallback. "a+b" joins datasets (each keeps its own split). Types live in dataset.py,
so loaders never import this package back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .bandai import load_bandai
from .bandai2 import is_bandai2, load_bandai2
from .bvh_folder import load_bvh_folder
from .dataset import DEFAULT_DATASET, DatasetError, MotionDataset, join_datasets
from .humanml3d import load_humanml3d


def _is_humanml3d(path: Path) -> bool:
    return (path / "new_joint_vecs").is_dir()


def _is_bandai(path: Path) -> bool:
    return (path / "cfg" / "content_label.txt").is_file() and (path / "data").is_dir()


# (detector, loader(path, use_cache, progress)); checked in order, BVH folder last.
LOADERS: list[tuple[Callable[[Path], bool], Callable[..., MotionDataset]]] = [
    (_is_humanml3d, lambda path, use_cache, progress: load_humanml3d(path)),
    (_is_bandai, lambda path, use_cache, progress: load_bandai(path, use_cache=use_cache, progress=progress)),
    (is_bandai2, lambda path, use_cache, progress: load_bandai2(path, use_cache=use_cache, progress=progress)),
    (lambda path: True, lambda path, use_cache, progress: load_bvh_folder(path, use_cache=use_cache,
                                                                          progress=progress)),
]


def _locate(spec: str) -> Path:
    """A bare dataset name ("bandai-namco-2-dev") is looked up in the data roots first, then as a path."""
    from ..paths import DatasetNotFoundError, find_dataset

    if "/" not in spec and "\\" not in spec:
        try:
            return find_dataset(spec)
        except DatasetNotFoundError:
            pass
    return Path(spec).expanduser()


def load_dataset(spec: str = DEFAULT_DATASET, *, use_cache: bool = True, progress: bool = False) -> MotionDataset:
    """Load "bandai-namco-1", "bandai-namco-2-dev", a HumanML3D/KIT-ML root (has new_joint_vecs/), any folder
    of BVH files, or several of them joined with "+" ("bandai-namco-1+bandai-namco-2-dev")."""
    if "+" in spec and not Path(spec).expanduser().exists():
        return join_datasets([load_dataset(part, use_cache=use_cache, progress=progress)
                              for part in spec.split("+") if part])
    path = _locate(spec)
    if not path.exists():
        raise DatasetError(f"{spec}: no such dataset or folder. Give '{DEFAULT_DATASET}', a HumanML3D root "
                           "(with new_joint_vecs/ and texts/) or a folder of .bvh files.")
    if not path.is_dir():
        raise DatasetError(f"{path}: not a folder; give the folder that holds the motion files.")
    loader = next(load for accepts, load in LOADERS if accepts(path))
    return loader(path, use_cache, progress)


__all__ = ["DEFAULT_DATASET", "DatasetError", "LOADERS", "MotionDataset", "join_datasets", "load_dataset"]
