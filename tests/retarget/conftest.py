"""Real clips (Bandai-Namco-1 BVH, HumanML3D joints) and pose helpers for the retargeting tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core.motion.load import load_motion
from lavimo_core.motion.motion import Motion
from lavimo_core.motion.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from lavimo_core.paths import find_dataset
from lavimo_core.retarget.rig import Rig, bone_matrix, forward_kinematics

# Walking, running, a spinning kick (three full turns), bowing (bent over), walking backwards.
CLIPS = ("walk_normal_001", "run_normal_001", "kick_normal_001", "bow_normal_001", "walk-back_normal_001")
# Bone -> the joint it points at, as the solver defines it (pelvis and chest point up the spine).
POINTS_AT = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle", "right_knee": "right_ankle",
    "left_ankle": "left_foot", "right_ankle": "right_foot", "left_collar": "left_shoulder",
    "right_collar": "right_shoulder", "left_shoulder": "left_elbow", "right_shoulder": "right_elbow",
    "left_elbow": "left_wrist", "right_elbow": "right_wrist",
}


def bandai_path(clip: str):
    """Path of Bandai-Namco-1 clip `dataset-1_<clip>.bvh`."""
    return find_dataset("bandai-namco-1") / "data" / f"dataset-1_{clip}.bvh"


@pytest.fixture(scope="session")
def bandai_motions() -> dict[str, Motion]:
    """Real Bandai-Namco clips as canonical motions (loaded once)."""
    return {clip: load_motion(bandai_path(clip)) for clip in CLIPS}


@pytest.fixture(scope="session")
def humanml3d_motion() -> Motion:
    """HumanML3D clip 012314 (canonical joints, 20 fps)."""
    joints = np.load(find_dataset("humanml3d-sample") / "new_joints" / "012314.npy", allow_pickle=False)
    return Motion(name="012314", joints=joints)


def _posed(rig: Rig, result) -> np.ndarray:
    """Posed armature-space matrices (T, N, 4, 4) from a RetargetResult, by Blender's pose rule."""
    basis = np.broadcast_to(np.eye(4), (result.num_frames, len(rig.names), 4, 4)).copy()
    for bone, q in result.rotations.items():
        basis[:, rig.index(bone), :3, :3] = Rotation.from_quat(q, scalar_first=True).as_matrix()
    for bone, loc in result.locations.items():
        basis[:, rig.index(bone), :3, 3] = loc
    return forward_kinematics(rig, basis)


def _segment_errors(rig: Rig, bone_map, result, pose: np.ndarray) -> np.ndarray:
    """Angle (degrees, (S, T)) between each mapped bone's direction and its source segment, armature space."""
    errors = []
    for joint, bone in bone_map.joints.items():
        child = POINTS_AT.get(joint)
        while child is not None and child not in bone_map.joints:
            child = POINTS_AT.get(child)
        if child is None:
            continue
        got = pose[:, rig.index(bone_map.joints[child]), :3, 3] - pose[:, rig.index(bone), :3, 3]
        src = result.source_joints
        want = (src[:, JOINT_INDEX[child]] - src[:, JOINT_INDEX[joint]]) @ result.placement.rotation.T
        cos = np.sum(got * want, -1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1)
        errors.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.array(errors)


def _rig_from_pose(joints: np.ndarray, roll: float = 0.0, name: str = "from_pose") -> Rig:
    """A rig whose bones are the canonical skeleton standing in `joints` (22, 3), named like SMPL-X.

    Each bone ends at the joint it points at (end bones reach a little past the joint), every bone rolled.
    """
    heads = np.asarray(joints, dtype=np.float64)
    tails = np.empty_like(heads)
    for j, n in enumerate(JOINT_NAMES):
        if n in POINTS_AT:
            tails[j] = heads[JOINT_INDEX[POINTS_AT[n]]]
        else:
            tails[j] = heads[j] + 0.3 * (heads[j] - heads[PARENTS[j]])
    rest = np.stack([bone_matrix(h, t, roll * (j + 1)) for j, (h, t) in enumerate(zip(heads, tails))])
    return Rig(names=JOINT_NAMES, parents=PARENTS, rest_matrices=rest, tails=tails, name=name)


# Helpers handed to tests as fixtures (test modules cannot import conftest under importlib mode).
@pytest.fixture(scope="session")
def posed():
    """posed(rig, result) -> (T, N, 4, 4) posed armature-space matrices."""
    return _posed


@pytest.fixture(scope="session")
def segment_errors():
    """segment_errors(rig, bone_map, result, pose) -> (S, T) degrees between bone and source directions."""
    return _segment_errors


@pytest.fixture(scope="session")
def rig_from_pose():
    """rig_from_pose(joints (22, 3), roll=0.0, name=...) -> a Rig standing in that pose."""
    return _rig_from_pose
