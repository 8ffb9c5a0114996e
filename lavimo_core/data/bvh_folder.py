"""Any folder of BVH files as a dataset, with optional captions from a sidecar (captions.csv or captions.json).

Sidecar formats (paths relative to the folder; "walk.bvh", "walk" and "sub/walk.bvh" all match):
- CSV: one `file,caption` row per caption (a file may have several rows; further columns are more
  captions); a first row `file,caption` is a header and is skipped.
- JSON: {"file": "caption"} or {"file": ["caption", ...]}.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..motion.motion import Motion
from .bvh_dataset import hashed_split, load_bvh_dataset
from .cache import file_sha256
from .dataset import DatasetError, MotionDataset

SIDECARS = ("captions.json", "captions.csv")


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
