"""`MotionDataset`: a named list of canonical motions with its train/val/test split and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LavimoError
from ..motion.motion import Motion

DEFAULT_DATASET = "bandai-namco-1"
SPLITS = ("train", "val", "test")


class DatasetError(LavimoError):
    """A dataset that cannot be found or read as a whole (one bad clip is skipped instead)."""


@dataclass
class MotionDataset:
    """Motions with unique names; `splits` maps 'train'/'val'/'test' to indices into `motions`.

    `skipped` lists (file, reason) for inputs that could not be read, so an import never aborts on
    one bad file.
    """

    name: str
    motions: list[Motion]
    splits: dict[str, list[int]]
    license: str = ""
    attribution: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.motions)

    def split(self, name: str) -> list[Motion]:
        """The motions of split `name` ('train', 'val' or 'test')."""
        return [self.motions[i] for i in self.splits.get(name, [])]

    def split_of(self) -> dict[str, str]:
        """Motion name -> its split."""
        return {self.motions[i].name: s for s, idx in self.splits.items() for i in idx}


def _is_humanml3d(path: Path) -> bool:
    return (path / "new_joint_vecs").is_dir()


def _is_bandai(path: Path) -> bool:
    return (path / "cfg" / "content_label.txt").is_file() and (path / "data").is_dir()


def load_dataset(spec: str = DEFAULT_DATASET, *, use_cache: bool = True, progress: bool = False) -> MotionDataset:
    """Load "bandai-namco-1", a HumanML3D/KIT-ML root (has new_joint_vecs/), or any folder of BVH files."""
    from ..paths import find_dataset

    path = find_dataset(spec) if spec == DEFAULT_DATASET else Path(spec).expanduser()
    if not path.exists():
        raise DatasetError(f"{spec}: no such dataset or folder. Give '{DEFAULT_DATASET}', a HumanML3D root "
                           "(with new_joint_vecs/ and texts/) or a folder of .bvh files.")
    if not path.is_dir():
        raise DatasetError(f"{path}: not a folder; give the folder that holds the motion files.")
    if _is_humanml3d(path):
        from .humanml3d import load_humanml3d
        return load_humanml3d(path)
    if _is_bandai(path):
        from .bandai import load_bandai
        return load_bandai(path, use_cache=use_cache, progress=progress)
    from .bvh_folder import load_bvh_folder
    return load_bvh_folder(path, use_cache=use_cache, progress=progress)
