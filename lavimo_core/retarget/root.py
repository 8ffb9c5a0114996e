"""Root motion of a canonical clip: heading, root-motion modes (full, in place, locked heading),
leg length for stride scaling, and the lowest foot point for floor contact. Canonical space: Y up,
facing +Z at frame 0, metres, floor at y = 0."""

from __future__ import annotations

import numpy as np

from ..filters1d import gaussian_filter1d
from ..motion.root_travel import without_ground_travel
from ..motion.skeleton import JOINT_INDEX
from .errors import RetargetError

ROOT_MOTION_MODES = ("full", "in_place", "locked_heading")
HEADING_SMOOTHING_S = 0.25  # hip sway is not a change of heading

_PELVIS = JOINT_INDEX["pelvis"]
_FEET = [JOINT_INDEX[j] for j in ("left_ankle", "right_ankle", "left_foot", "right_foot")]


def heading_yaw(joints: np.ndarray, fps: float) -> np.ndarray:
    """Facing angle (T,) about +Y (0 = facing +Z), from the hips, unwrapped and lightly smoothed."""
    across = joints[:, JOINT_INDEX["left_hip"]] - joints[:, JOINT_INDEX["right_hip"]]
    # forward = across x up; with up = +Y that is (-across_z, 0, across_x).
    yaw = np.unwrap(np.arctan2(-across[:, 2], across[:, 0]))
    sigma = HEADING_SMOOTHING_S * fps
    return gaussian_filter1d(yaw, sigma, mode="nearest") if len(yaw) > 1 and sigma > 0 else yaw


def _rotate_y(v: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate points (T, ..., 3) about +Y by angle (T,)."""
    c = np.cos(angle).reshape((-1,) + (1,) * (v.ndim - 2))
    s = np.sin(angle).reshape(c.shape)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([c * x + s * z, y, -s * x + c * z], axis=-1)


def apply_root_motion(joints: np.ndarray, mode: str, fps: float) -> np.ndarray:
    """Joints (T, 22, 3) with the root motion `mode` applied: "full" (as is), "in_place" (pelvis kept over
    its start point on the ground) or "locked_heading" (turns removed: the body keeps its start facing and
    travels along the path as seen from the body)."""
    if mode not in ROOT_MOTION_MODES:
        raise RetargetError(f"unknown root motion {mode!r}; use one of {', '.join(ROOT_MOTION_MODES)}")
    joints = np.array(joints, dtype=np.float64)
    if mode == "in_place":
        return without_ground_travel(joints)
    pelvis_xz = joints[:, _PELVIS, :].copy()
    pelvis_xz[:, 1] = 0.0
    if mode == "locked_heading":
        turn = heading_yaw(joints, fps)
        turn = turn - turn[0]
        body = _rotate_y(joints - pelvis_xz[:, None, :], -turn)
        steps = _rotate_y(np.diff(pelvis_xz, axis=0), -turn[:-1])
        path = pelvis_xz[:1] + np.concatenate([np.zeros((1, 3)), np.cumsum(steps, axis=0)])
        return body + path[:, None, :]
    return joints


def leg_length(joints: np.ndarray) -> float:
    """Mean hip-knee-ankle length (metres) over both legs and all frames."""
    total = 0.0
    for side in ("left", "right"):
        hip, knee, ankle = (joints[:, JOINT_INDEX[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
        total += np.linalg.norm(knee - hip, axis=-1).mean() + np.linalg.norm(ankle - knee, axis=-1).mean()
    return float(total / 2)


def lowest_foot_height(joints: np.ndarray) -> np.ndarray:
    """Height (T,) of the lowest ankle or toe joint above the floor (y = 0)."""
    return joints[:, _FEET, 1].min(axis=1)
