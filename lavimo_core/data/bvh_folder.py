"""Any folder of BVH files as a dataset, with optional captions from a sidecar (captions.csv or captions.json).

Sidecar formats (paths relative to the folder; "walk.bvh", "walk" and "sub/walk.bvh" all match):
- CSV: one `file,caption` row per caption (a file may have several rows; further columns are more
  captions); a first row `file,caption` is a header and is skipped.
- JSON: {"file": "caption"} or {"file": ["caption", ...]}.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Callable

from ..errors import LavimoError
from ..motion.motion import Motion
from .cache import DATASET_SOURCES, code_version, file_sha256, get_dataset, key_of, load_motion_cached, put_dataset
from .dataset import SPLITS, DatasetError, MotionDataset

SIDECARS = ("captions.json", "captions.csv")
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


def read_captions(path: Path) -> dict[str, list[str]]:
    """Captions per file key from a sidecar CSV or JSON; raises DatasetError naming the file and line."""
    text = path.read_text(encoding="utf-8-sig")
    out: dict[str, list[str]] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}). Expected "
                               '{"file.bvh": ["caption", ...]}.') from None
        if not isinstance(data, dict):
            raise DatasetError(f"{path}: expected a JSON object mapping file names to captions.")
        for key, value in data.items():
            caps = [value] if isinstance(value, str) else value
            if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
                raise DatasetError(f"{path}: captions of {key!r} must be a string or a list of strings.")
            out.setdefault(key, []).extend(c.strip() for c in caps if c.strip())
        return out
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(c.strip() for c in row):
            continue
        if n == 1 and [c.strip().lower() for c in row[:2]] == ["file", "caption"]:
            continue
        if len(row) < 2:
            raise DatasetError(f"{path}:{n}: expected 'file,caption', found {','.join(row)!r}.")
        out.setdefault(row[0].strip(), []).extend(c.strip() for c in row[1:] if c.strip())
    return out


def _match_captions(root: Path, files: list[Path], captions: dict[str, list[str]], sidecar: Path
                    ) -> tuple[dict[Path, list[str]], list[tuple[str, str]]]:
    keys: dict[str, Path] = {}
    for f in files:
        rel = f.relative_to(root).as_posix()
        for k in (rel, rel[: -len(f.suffix)], f.name, f.stem):
            keys.setdefault(k, f)
    matched: dict[Path, list[str]] = {}
    unmatched = []
    for key, caps in captions.items():
        f = keys.get(key.strip().replace("\\", "/"))
        if f is None:
            unmatched.append((str(sidecar), f"captions for {key!r}, but no such .bvh file in {root}"))
        else:
            matched.setdefault(f, []).extend(caps)
    return matched, unmatched


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


def load_bvh_folder(root: str | Path, *, captions: str | Path | None = None, use_cache: bool = True,
                    progress: bool = False) -> MotionDataset:
    """Every .bvh under `root` (recursively) as a dataset; captions from `captions` or a sidecar in `root`."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".bvh" and p.is_file())
    if not files:
        raise DatasetError(f"{root}: no .bvh files found (searched subfolders too).")
    sidecar = Path(captions) if captions else next((root / s for s in SIDECARS if (root / s).is_file()), None)
    per_file, unmatched, sidecar_digest = {}, [], None
    if sidecar is not None:
        if not sidecar.is_file():
            raise DatasetError(f"{sidecar}: captions file not found.")
        per_file, unmatched = _match_captions(root, files, read_captions(sidecar), sidecar)
        sidecar_digest = file_sha256(sidecar)

    def decorate(m: Motion, f: Path) -> None:
        m.captions = list(per_file.get(f, []))

    ds = load_bvh_dataset(root.name, root, files, decorate=decorate,
                          split=lambda ms: hashed_split([m.name for m in ms]), license="", attribution="",
                          inputs=[str(sidecar), sidecar_digest], use_cache=use_cache, progress=progress)
    ds.skipped.extend(unmatched)
    return ds
