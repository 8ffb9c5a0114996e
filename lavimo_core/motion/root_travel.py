"""A clip played in place: the pelvis's travel over the ground removed (canonical joints, Y up)."""

from __future__ import annotations

import numpy as np

from .skeleton import JOINT_INDEX

_PELVIS = JOINT_INDEX["pelvis"]


def without_ground_travel(joints: np.ndarray) -> np.ndarray:
    """Joints (T, J, 3) with the pelvis kept over its start point on the ground; height (a jump) is kept."""
    travel = joints[:, _PELVIS, :] - joints[:1, _PELVIS, :]
    travel[:, 1] = 0.0
    return joints - travel[:, None, :]
