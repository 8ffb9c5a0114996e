"""Load a motion file into a canonical `Motion`: parse, map the skeleton, resample to 20 fps, metres, Y up, canonical pose."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .bvh import BVH, BVHError, forward_kinematics, quats_to_matrices, read_bvh
from .motion import Motion, SourceInfo
from .resample import resample_local
from .skeleton import FPS, JOINT_INDEX
from .skeleton_maps import SkeletonMapError, detect_skeleton

# Metres per file unit. "cmu" is the CMU mocap unit (inches / 0.45) kept by the cgspeed BVH conversion.
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}
# Leg (hip-knee-ankle) plus trunk (pelvis-spine-neck-head) length of an adult, in metres: 1.28 on
# Bandai-Namco, 1.48 on HumanML3D's reference skeleton. Units are chosen to land closest to it.
REFERENCE_BODY_LENGTH = 1.4
# Canonical joints are metres from the ground origin: beyond 10 km a clip is corrupt, not a motion.
MAX_EXTENT_M = 1e4
# Proper rotations (det +1, so left stays left) taking each possible up axis onto +Y.
_TO_Y_UP = {
    "+y": np.eye(3),
    "-y": np.diag([-1.0, -1.0, 1.0]),
    "+z": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
    "-z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    "+x": np.array([[0, -1.0, 0], [1, 0, 0], [0, 0, 1]]),
    "-x": np.array([[0, 1.0, 0], [-1, 0, 0], [0, 0, 1]]),
}


def body_length(joints: np.ndarray) -> float:
    """Median over frames of mean leg length + pelvis->neck->head length, in the joints' units."""
    j = JOINT_INDEX

    def path(*names: str) -> np.ndarray:
        p = joints[:, [j[n] for n in names]]
        return np.linalg.norm(np.diff(p, axis=1), axis=-1).sum(-1)

    legs = (path("left_hip", "left_knee", "left_ankle") + path("right_hip", "right_knee", "right_ankle")) / 2
    trunk = path("pelvis", "spine1", "spine2", "spine3", "neck", "head")
    return float(np.median(legs + trunk))


def detect_units(joints: np.ndarray) -> str:
    """The unit in UNITS that makes the body closest to an adult's size."""
    length = body_length(joints)
    if not np.isfinite(length) or length <= 0:
        raise ValueError("degenerate skeleton: zero body length")
    return min(UNITS, key=lambda u: abs(np.log(length * UNITS[u] / REFERENCE_BODY_LENGTH)))


def detect_up(joints: np.ndarray) -> str:
    """The signed axis ("+y", "+z", ...) the body points along, pelvis -> head, averaged over frames."""
    v = (joints[:, JOINT_INDEX["head"]] - joints[:, JOINT_INDEX["pelvis"]]).mean(0)
    axis = int(np.argmax(np.abs(v)))
    return ("+" if v[axis] >= 0 else "-") + "xyz"[axis]


def bvh_joints(bvh: BVH, fps: float = FPS, where: str = "") -> tuple[np.ndarray, str]:
    """Canonical joints (T, 22, 3) at `fps` in the file's units and axes, and the skeleton convention."""
    smap = detect_skeleton(bvh.names, bvh.parents, bvh.end_site, where=where or bvh.path)
    quats, trans = resample_local(*bvh.local_transforms(), bvh.fps, fps)
    positions = forward_kinematics(quats_to_matrices(quats), trans, bvh.parents)
    return smap.to_canonical(positions), smap.convention


def load_motion(path: str | Path, *, units: str | float | None = None, up: str | None = None) -> Motion:
    """Load a BVH file as a canonical Motion (20 fps, metres, Y up, ground y=0, facing +Z, features filled).

    `units` ("m", "cm", "mm", "inch", "cmu" or metres per unit) and `up` ("+y", "+z", ...) override detection.
    """
    from .features import canonicalize_joints, joints_to_features

    path = Path(path)
    if path.suffix.lower() != ".bvh":
        raise BVHError(f"{path}: unsupported motion file type {path.suffix!r}; LAVIMO imports .bvh files.")
    bvh = read_bvh(path)
    where = str(path)
    joints, convention = bvh_joints(bvh, FPS, where)
    if len(joints) < 2:
        raise BVHError(f"{where}: the motion lasts {(bvh.num_frames - 1) * bvh.frame_time:.3f} s; at least "
                       f"{1 / FPS:.2f} s (two frames at {FPS:g} fps) is needed.")
    if units is None:
        try:
            units = detect_units(joints)
        except ValueError:
            raise SkeletonMapError(f"{where}: all joints of the skeleton coincide; cannot tell its size.") from None
    if isinstance(units, str) and units not in UNITS:
        raise ValueError(f"units must be one of {sorted(UNITS)} or metres per unit, got {units!r}")
    scale = UNITS[units] if isinstance(units, str) else float(units)
    up = up or detect_up(joints)
    if up not in _TO_Y_UP:
        raise ValueError(f"up must be one of {sorted(_TO_Y_UP)}, got {up!r}")
    joints = (joints * scale) @ _TO_Y_UP[up].T
    joints = canonicalize_joints(joints)
    extent = float(np.abs(joints).max())
    if not extent <= MAX_EXTENT_M:  # also NaN: an absurd offset/position chain the per-value limits let through
        raise BVHError(f"{where}: joints reach {extent:.3g} m from the origin (more than {MAX_EXTENT_M:g} m); the "
                       "file is corrupted or in an absurd unit: re-export the motion.")
    source = SourceInfo(path=where, format="bvh", skeleton=convention, fps=bvh.fps,
                        duration=bvh.num_frames * bvh.frame_time)
    return Motion(name=path.stem, joints=joints, source=source, features=joints_to_features(joints))
