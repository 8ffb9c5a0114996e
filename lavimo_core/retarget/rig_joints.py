"""The retargeted rig as a canonical 22-joint motion (its mapped bones' heads, back in canonical space), so the
rig's pose can be drawn beside the source with the same pose strips."""

from __future__ import annotations

import numpy as np

from ..motion.motion import Motion
from ..motion.skeleton import JOINT_NAMES, PARENTS
from .bone_maps import BoneMap
from .control_rig import posed_matrices
from .rig import Rig
from .solve import CHILD, RetargetResult


def rig_joint_motion(rig: Rig, bone_map: BoneMap, result: RetargetResult, name: str = "") -> Motion:
    """Canonical joints (T, 22, 3) where the retargeted rig puts its mapped bones; a joint the rig lacks lies
    halfway between its neighbours."""
    pose = posed_matrices(rig, result.rotations, result.locations, result.num_frames)
    heads = pose[..., :3, 3]
    place = result.placement
    joints = np.full((result.num_frames, len(JOINT_NAMES), 3), np.nan)
    for j, joint in enumerate(JOINT_NAMES):
        if joint in bone_map.joints:
            joints[:, j] = (heads[:, rig.index(bone_map.joints[joint])] - place.origin) @ place.rotation / place.scale
    for j, joint in enumerate(JOINT_NAMES):
        if np.isnan(joints[:, j]).any():
            near = [JOINT_NAMES.index(CHILD[joint])] if joint in CHILD else []
            near = [k for k in near + [PARENTS[j]] if k >= 0 and not np.isnan(joints[:, k]).any()]
            joints[:, j] = np.mean([joints[:, k] for k in near], axis=0) if near else 0.0
    return Motion(name=name or f"{result.report.bone_map.preset} rig", joints=joints, fps=result.fps)
