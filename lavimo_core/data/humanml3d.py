"""HumanML3D-layout dataset folders: new_joint_vecs/*.npy, texts/*.txt, train/val/test.txt, Mean/Std.npy.

Each texts/<id>.txt line is `caption#tokens#start#end` (seconds). Lines with start = end = 0 caption
the whole clip; any other line captions the frames [int(start*20), int(end*20)) and becomes an item
of its own, named `<id>_<k>` with k its 0-based line number (HumanML3D's loaders do the same slicing,
under random names). Sub-clips belong to the split of their clip.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import LavimoError
from ..motion.features import features_to_joints
from ..motion.motion import Motion, SourceInfo
from ..motion.skeleton import FEATURE_DIM, FPS
from .dataset import MotionDataset

SPLITS = ("train", "val", "test")
LICENSE = "see the dataset's LICENSE; HumanML3D motions derive from AMASS, licensed for non-commercial research only"
ATTRIBUTION = "HumanML3D (Guo et al., CVPR 2022), motions from AMASS (Mahmood et al., ICCV 2019)"


class HumanML3DLayoutError(LavimoError, FileNotFoundError):
    """A folder is not a usable HumanML3D/KIT-ML dataset (missing folders or split file)."""


def _read_split(root: Path, split: str) -> list[str] | None:
    """Clip ids listed in <split>.txt, or None without that file."""
    path = root / f"{split}.txt"
    if not path.is_file():
        return None
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _read_texts(path: Path) -> tuple[list[str], list[tuple[int, str, float, float]], list[tuple[str, str]]]:
    """Whole-clip captions, sub-clip (line, caption, start, end) and (file:line, reason) for bad lines."""
    whole, parts, bad = [], [], []
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        fields = line.strip().split("#")
        where = f"{path}:{k + 1}"
        try:
            caption, start, end = fields[0].strip(), float(fields[2]), float(fields[3])
        except (IndexError, ValueError):
            bad.append((where, "expected `caption#tokens#start#end` with start/end in seconds"))
            continue
        if not caption:
            bad.append((where, "empty caption"))
            continue
        start, end = (0.0 if math.isnan(t) else t for t in (start, end))   # as HumanML3D
        if start == 0.0 and end == 0.0:
            whole.append(caption)
        else:
            parts.append((k, caption, start, end))
    return whole, parts, bad


def _load_features(path: Path) -> np.ndarray:
    """(T, 263) float32 features of one clip; raises ValueError with a reason."""
    try:
        features = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"not a readable .npy array ({e})") from None
    if features.ndim != 2 or features.shape[1] != FEATURE_DIM or len(features) < 1:
        kit = " (KIT-ML's 21-joint features are not supported)" if features.shape[-1:] == (251,) else ""
        raise ValueError(f"features have shape {features.shape}, expected (T, {FEATURE_DIM}) HumanML3D features{kit}")
    if not np.isfinite(features).all():
        raise ValueError("features contain NaN or infinite values (HumanML3D drops such clips)")
    return features.astype(np.float32)


def _motion(name: str, features: np.ndarray, captions: list[str], path: Path) -> Motion:
    """A Motion whose joints are recovered from its features."""
    source = SourceInfo(path=str(path), format="humanml3d", skeleton="humanml3d", fps=FPS,
                        duration=len(features) / FPS, license=LICENSE, attribution=ATTRIBUTION)
    return Motion(name=name, joints=features_to_joints(features), captions=captions, source=source,
                  features=features)


def load_humanml3d(root: Path, *, split: str | None = None, max_motions: int | None = None) -> MotionDataset:
    """Load a HumanML3D-layout folder (all clips, or one split's) into a MotionDataset; bad files are skipped."""
    root = Path(root)
    for folder in ("new_joint_vecs", "texts"):
        if not (root / folder).is_dir():
            raise HumanML3DLayoutError(f"{root / folder} not found: a HumanML3D/KIT-ML dataset folder has "
                                       "new_joint_vecs/ (features .npy) and texts/ (captions .txt); "
                                       "point to the folder that contains both")
    if split is not None and split not in SPLITS:
        raise HumanML3DLayoutError(f"unknown split {split!r}; use one of {', '.join(SPLITS)} or None for all clips")
    split_ids = {name: _read_split(root, name) for name in SPLITS}
    if split is not None:
        if split_ids[split] is None:
            raise HumanML3DLayoutError(f"{root / (split + '.txt')} not found; load without split= to get all clips")
        ids = split_ids[split]
    else:
        ids = sorted(p.stem for p in (root / "new_joint_vecs").glob("*.npy"))
        if not ids:
            raise HumanML3DLayoutError(f"{root / 'new_joint_vecs'} has no .npy files")
    if max_motions is not None:
        ids = ids[:max_motions]
    split_of = {clip: name for name in SPLITS for clip in (split_ids[name] or [])}

    motions: list[Motion] = []
    splits: dict[str, list[int]] = {name: [] for name in SPLITS}
    skipped: list[tuple[str, str]] = []
    for clip in ids:
        vec_path, text_path = root / "new_joint_vecs" / f"{clip}.npy", root / "texts" / f"{clip}.txt"
        if not vec_path.is_file():
            skipped.append((str(vec_path), "file not found (the clip is listed in a split file)"))
            continue
        if not text_path.is_file():
            skipped.append((str(vec_path), f"no captions: {text_path} not found"))
            continue
        try:
            features = _load_features(vec_path)
            whole, parts, bad = _read_texts(text_path)
        except (ValueError, UnicodeDecodeError) as e:
            skipped.append((str(vec_path), str(e)))
            continue
        skipped += bad
        items = [(clip, features, whole)] if whole else []
        for k, caption, start, end in parts:
            piece = features[int(start * FPS):int(end * FPS)]
            if len(piece) < 1:
                skipped.append((f"{text_path}:{k + 1}", f"sub-clip {start}-{end} s is empty in a "
                                                        f"{len(features) / FPS:.2f} s clip"))
                continue
            items.append((f"{clip}_{k}", piece, [caption]))
        for name, item_features, captions in items:
            if clip in split_of:
                splits[split_of[clip]].append(len(motions))
            motions.append(_motion(name, item_features, captions, vec_path))
    if ids and not motions:
        reasons = "; ".join(f"{file}: {reason}" for file, reason in skipped[:3])
        raise HumanML3DLayoutError(f"no motion could be loaded from {root} ({len(skipped)} problems, e.g. {reasons})")
    return MotionDataset(name=root.name, motions=motions, splits=splits, license=LICENSE,
                         attribution=ATTRIBUTION, skipped=skipped)
