"""The dataset a run trains on, split into train / validation / test motions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..model.errors import EmptyDatasetError
from ..motion.motion import Motion


@dataclass
class SplitData:
    """Motions of each split, plus the dataset's name, license and attribution."""

    name: str
    train: list[Motion]
    val: list[Motion]
    test: list[Motion]
    license: str
    attribution: str
    part_of: dict[str, str] = field(default_factory=dict)  # motion name -> the dataset it came from


def load_splits(spec: str, val_fraction: float = 0.1, progress: bool = False) -> SplitData:
    """Load dataset `spec` (see data.dataset.load_dataset) and return its splits; raises EmptyDatasetError
    when there is nothing to train or validate on. Without a validation split, a deterministic
    `val_fraction` of the training clips (chosen by a hash of their names) becomes one."""
    from ..data import load_dataset
    ds = load_dataset(spec, progress=progress)
    pick = {name: [ds.motions[i] for i in ds.splits.get(name, [])] for name in ("train", "val", "test")}
    if not ds.motions:
        skipped = "; ".join(f"{f}: {why}" for f, why in ds.skipped[:3])
        raise EmptyDatasetError(f"dataset {spec!r} has no usable motions{' (' + skipped + ')' if skipped else ''}; "
                                "point --config train.dataset at a folder with motions")
    uncaptioned = sum(1 for name in ("train", "val") for m in pick[name] if not m.captions)
    if uncaptioned:
        # A text-motion model learns nothing from a clip without words; such clips are left out.
        pick = {name: [m for m in ms if m.captions] if name != "test" else ms for name, ms in pick.items()}
        if not pick["train"] and not pick["val"]:
            raise EmptyDatasetError(f"none of the {uncaptioned} motions of {spec!r} has a caption; add a captions "
                                    "sidecar (captions.csv or captions.json: file -> captions) next to the files")
    if not pick["train"]:
        raise EmptyDatasetError(f"dataset {spec!r} has {len(ds.motions)} motions but none in its 'train' split; "
                                "add a train split (for HumanML3D: train.txt) or use a dataset with one")
    if not pick["val"]:
        ranked = sorted(pick["train"], key=lambda m: hashlib.sha256(m.name.encode()).hexdigest())
        n_val = max(2, round(val_fraction * len(ranked)))
        pick["val"], pick["train"] = ranked[:n_val], ranked[n_val:]
    if len(pick["train"]) < 2 or len(pick["val"]) < 2:
        raise EmptyDatasetError(f"dataset {spec!r} is too small to train on: {len(pick['train'])} training and "
                                f"{len(pick['val'])} validation motions (need at least 2 each)")
    return SplitData(ds.name, pick["train"], pick["val"], pick["test"], ds.license, ds.attribution,
                     {m.name: ds.part(m.name) for ms in pick.values() for m in ms})
