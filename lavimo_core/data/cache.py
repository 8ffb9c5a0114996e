"""On-disk cache of converted clips and whole datasets, keyed by source content and code version.

One clip: `import/clips/<key>.npz` (joints, features, metadata JSON), key = sha256(code version, file
sha256, load options). One dataset: `import/datasets/<key>.npz` holding every clip's arrays end to end,
key = sha256(code version, every file's path and sha256, sidecars, options): a warm load is one file
read instead of one per clip. Files are written atomically (lavimo_core.atomic) and read with
allow_pickle=False; an unreadable entry counts as a miss and is rewritten. Only clips that converted
cleanly are cached: a bad file is re-read (and reported) each time until it changes.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict
from functools import cache
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..motion.motion import Motion, SourceInfo
from ..paths import cache_dir

FORMAT = 1
_ROOT = Path(__file__).resolve().parent.parent
# Sources whose change must invalidate converted clips (motion import) and datasets (plus labels/captions).
CLIP_SOURCES = ("motion/bvh.py", "motion/skeleton_maps.py", "motion/resample.py", "motion/load.py",
                "motion/features.py", "motion/skeleton.py", "motion/motion.py", "data/cache.py")
DATASET_SOURCES = CLIP_SOURCES + ("data/dataset.py", "data/bandai.py", "data/bandai2.py", "data/bvh_folder.py",
                                  "data/bvh_dataset.py", "data/captions.py", "motion/sides.py")


@cache
def code_version(sources: tuple[str, ...] = CLIP_SOURCES) -> str:
    """sha256 of the given lavimo_core source files, so a code change invalidates what they produced."""
    h = hashlib.sha256(f"format {FORMAT}".encode())
    for rel in sources:
        h.update(rel.encode())
        h.update((_ROOT / rel).read_bytes())
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's content."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def key_of(*parts: object) -> str:
    """A cache key: sha256 of the JSON of `parts`."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_write(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def _read_npz(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing, truncated, foreign: a miss
        return None


def _json_array(obj: object) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


def _meta(m: Motion) -> dict:
    return {"name": m.name, "fps": m.fps, "captions": m.captions, "labels": m.labels, "source": asdict(m.source),
            "frames": m.num_frames, "feature_frames": None if m.features is None else len(m.features)}


def _motion(meta: dict, joints: np.ndarray, features: np.ndarray | None) -> Motion:
    return Motion(name=meta["name"], joints=joints, fps=meta["fps"], captions=list(meta["captions"]),
                  labels=dict(meta["labels"]), source=SourceInfo(**meta["source"]), features=features)


def get_clip(key: str) -> Motion | None:
    """The cached clip under `key`, or None."""
    z = _read_npz(cache_dir("import", "clips") / f"{key}.npz")
    if z is None or "meta" not in z:
        return None
    try:
        meta = json.loads(z["meta"].tobytes())
        return _motion(meta, z["joints"], None if meta["feature_frames"] is None else z["features"])
    except (ValueError, KeyError, TypeError):
        return None


def put_clip(key: str, motion: Motion) -> None:
    """Store a converted clip under `key`."""
    arrays = {"meta": _json_array(_meta(motion)), "joints": motion.joints}
    arrays["features"] = motion.features if motion.features is not None else np.zeros((0, 0), np.float32)
    _write_npz(cache_dir("import", "clips") / f"{key}.npz", arrays)


def get_dataset(key: str) -> tuple[list[Motion], dict] | None:
    """Motions and extra metadata of the dataset cached under `key`, or None."""
    z = _read_npz(cache_dir("import", "datasets") / f"{key}.npz")
    if z is None or "meta" not in z:
        return None
    try:
        meta = json.loads(z["meta"].tobytes())
        lengths = [m["frames"] for m in meta["motions"]]
        flen = [m["feature_frames"] or 0 for m in meta["motions"]]
        joints = np.split(z["joints"], np.cumsum(lengths)[:-1]) if lengths else []
        feats = np.split(z["features"], np.cumsum(flen)[:-1]) if lengths else []
        motions = [_motion(m, j, None if m["feature_frames"] is None else f)
                   for m, j, f in zip(meta["motions"], joints, feats)]
        return motions, meta["extra"]
    except (ValueError, KeyError, TypeError):
        return None


def put_dataset(key: str, motions: list[Motion], extra: dict) -> None:
    """Store all motions of a dataset in one file under `key`, with JSON-able `extra` (splits, skipped, ...)."""
    meta = {"motions": [_meta(m) for m in motions], "extra": extra}
    joints = np.concatenate([m.joints for m in motions]) if motions else np.zeros((0, 22, 3), np.float32)
    feats = [m.features for m in motions if m.features is not None]
    features = np.concatenate(feats).astype(np.float32) if feats else np.zeros((0, 263), np.float32)
    _write_npz(cache_dir("import", "datasets") / f"{key}.npz",
               {"meta": _json_array(meta), "joints": joints, "features": features})


def load_motion_cached(path: str | Path, *, use_cache: bool = True, digest: str | None = None, **options) -> Motion:
    """`load_motion(path, **options)` through the clip cache; errors are raised, never cached."""
    from ..motion.load import load_motion

    if not use_cache:
        return load_motion(path, **options)
    key = key_of("clip", code_version(), digest or file_sha256(path), str(path), options)
    motion = get_clip(key)
    if motion is None:
        motion = load_motion(path, **options)
        put_clip(key, motion)
    return motion
