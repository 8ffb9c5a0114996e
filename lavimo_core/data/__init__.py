"""Datasets of canonical motions with captions and splits (Bandai-Namco, HumanML3D/KIT-ML, BVH folders).

`load_dataset` picks a loader from `LOADERS`: the first whose detector accepts the folder; a plain folder
of BVH files is the fallback. Types live in dataset.py, so loaders never import this package back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .bandai import load_bandai
from .bvh_folder import load_bvh_folder
from .dataset import DEFAULT_DATASET, DatasetError, MotionDataset
from .humanml3d import load_humanml3d


def _is_humanml3d(path: Path) -> bool:
    return (path / "new_joint_vecs").is_dir()


def _is_bandai(path: Path) -> bool:
    return (path / "cfg" / "content_label.txt").is_file() and (path / "data").is_dir()


# (detector, loader(path, use_cache, progress)); checked in order, BVH folder last.
LOADERS: list[tuple[Callable[[Path], bool], Callable[..., MotionDataset]]] = [
    (_is_humanml3d, lambda path, use_cache, progress: load_humanml3d(path)),
    (_is_bandai, lambda path, use_cache, progress: load_bandai(path, use_cache=use_cache, progress=progress)),
    (lambda path: True, lambda path, use_cache, progress: load_bvh_folder(path, use_cache=use_cache,
                                                                          progress=progress)),
]


def load_dataset(spec: str = DEFAULT_DATASET, *, use_cache: bool = True, progress: bool = False) -> MotionDataset:
    """Load "bandai-namco-1", a HumanML3D/KIT-ML root (has new_joint_vecs/), or any folder of BVH files."""
    from ..paths import find_dataset

    path = find_dataset(spec) if spec == DEFAULT_DATASET else Path(spec).expanduser()
    if not path.exists():
        raise DatasetError(f"{spec}: no such dataset or folder. Give '{DEFAULT_DATASET}', a HumanML3D root "
                           "(with new_joint_vecs/ and texts/) or a folder of .bvh files.")
    if not path.is_dir():
        raise DatasetError(f"{path}: not a folder; give the folder that holds the motion files.")
    loader = next(load for accepts, load in LOADERS if accepts(path))
    return loader(path, use_cache, progress)


__all__ = ["DEFAULT_DATASET", "DatasetError", "LOADERS", "MotionDataset", "load_dataset"]
