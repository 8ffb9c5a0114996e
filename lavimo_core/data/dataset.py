"""`MotionDataset`: a named list of canonical motions with its train/val/test split and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    part_of: dict[str, str] = field(default_factory=dict)  # clip name -> dataset it came from, when joined

    def part(self, clip: str) -> str:
        """The dataset clip `clip` came from (this one's name unless it is a join)."""
        return self.part_of.get(clip, self.name)

    def __len__(self) -> int:
        return len(self.motions)

    def split(self, name: str) -> list[Motion]:
        """The motions of split `name` ('train', 'val' or 'test')."""
        return [self.motions[i] for i in self.splits.get(name, [])]

    def split_of(self) -> dict[str, str]:
        """Motion name -> its split."""
        return {self.motions[i].name: s for s, idx in self.splits.items() for i in idx}


def join_datasets(parts: list[MotionDataset]) -> MotionDataset:
    """One dataset of several (names "a+b", each part's split kept); clip names must not collide."""
    if not parts:
        raise DatasetError("no dataset to join; give names separated by '+'.")
    motions, splits = [], {s: [] for s in SPLITS}
    for ds in parts:
        for s in SPLITS:
            splits[s] += [len(motions) + i for i in ds.splits.get(s, [])]
        motions += ds.motions
    names = [m.name for m in motions]
    if len(set(names)) != len(names):
        clash = sorted({n for n in names if names.count(n) > 1})[:3]
        raise DatasetError(f"datasets {[d.name for d in parts]} share clip names ({', '.join(clash)}); "
                           "join datasets whose clip names differ.")
    licenses = list(dict.fromkeys(d.license for d in parts if d.license))
    return MotionDataset("+".join(d.name for d in parts), motions, splits, "; ".join(licenses),
                         "; ".join(d.attribution for d in parts if d.attribution),
                         [s for d in parts for s in d.skipped],
                         {m.name: d.part(m.name) for d in parts for m in d.motions})
