"""A list of BVH files as a `MotionDataset`: clip names, a name-hashed split and one cached conversion.

The generic half of every BVH dataset loader (bvh_folder.py, bandai.py); the loaders add captions and labels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..errors import LavimoError
from ..motion.motion import Motion
from .cache import DATASET_SOURCES, code_version, file_sha256, get_dataset, key_of, load_motion_cached, put_dataset
from .dataset import SPLITS, MotionDataset

HOLDOUT = 0.15  # fraction of clips in each of val and test


def hashed_split(names: list[str], holdout: float = HOLDOUT) -> dict[str, list[int]]:
    """Deterministic split of `names` (indices): ordered by sha256 of the name, the first round(holdout*n)
    go to test, the next as many to val, the rest to train. Depends on the names only."""
    order = sorted(range(len(names)), key=lambda i: hashlib.sha256(names[i].encode()).hexdigest())
    k = int(holdout * len(order) + 0.5)
    return {"train": sorted(order[2 * k:]), "val": sorted(order[k:2 * k]), "test": sorted(order[:k])}


def clip_names(root: Path, files: list[Path]) -> list[str]:
    """File stems; the path relative to `root` (without suffix) where two stems collide."""
    stems = [f.stem for f in files]
    return [s if stems.count(s) == 1 else f.relative_to(root).with_suffix("").as_posix() for s, f in zip(stems, files)]


def load_bvh_dataset(name: str, root: Path, files: list[Path], *, decorate: Callable[[Motion, Path], None],
                     split: Callable[[list[Motion]], dict[str, list[int]]], license: str, attribution: str,
                     inputs: object = None, use_cache: bool = True, progress: bool = False) -> MotionDataset:
    """Convert `files` (skipping bad ones), `decorate` each motion, split them; cached as one file.

    `inputs`: anything else the result depends on (sidecar content...), part of the cache key.
    """
    files = sorted(files)
    names = clip_names(root, files)
    digests = [file_sha256(f) for f in files]
    key = key_of("dataset", name, code_version(DATASET_SOURCES),
                 [(str(f), d) for f, d in zip(files, digests)], inputs)
    if use_cache:
        hit = get_dataset(key)
        if hit is not None:
            motions, extra = hit
            return MotionDataset(name, motions, {s: list(extra["splits"][s]) for s in SPLITS},
                                 extra["license"], extra["attribution"], [tuple(s) for s in extra["skipped"]])
    iterator = zip(files, names, digests)
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, total=len(files), desc=f"importing {name}", unit="clip")
    motions, skipped, deterministic = [], [], True
    for f, clip_name, digest in iterator:
        try:
            m = load_motion_cached(f, use_cache=use_cache, digest=digest)
            m.name = clip_name
            decorate(m, f)
        except LavimoError as exc:
            skipped.append((str(f), str(exc)))
            continue
        except Exception as exc:  # a bug or an unexpected file: report it, keep importing the others
            skipped.append((str(f), f"unexpected error ({type(exc).__name__}: {exc}); please report it"))
            deterministic = False
            continue
        motions.append(m)
    splits = split(motions)
    ds = MotionDataset(name, motions, splits, license, attribution, skipped)
    if use_cache and deterministic:
        put_dataset(key, motions, {"splits": splits, "license": license, "attribution": attribution,
                                   "skipped": skipped})
    return ds
