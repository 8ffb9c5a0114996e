"""The canonical skeleton: HumanML3D's 22 SMPL body joints (metres, Y up, facing +Z, 20 fps)."""

from __future__ import annotations

FPS = 20.0
FEATURE_DIM = 263

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

# SMPL parent of each joint (-1 for the root).
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)

# HumanML3D's kinematic chains (t2m_kinematic_chain): right leg, left leg, spine, right arm, left arm.
KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),
    (0, 1, 4, 7, 10),
    (0, 3, 6, 9, 12, 15),
    (9, 14, 17, 19, 21),
    (9, 13, 16, 18, 20),
)

# Left <-> right swap, for mirroring a motion across the character's sagittal plane (x -> -x).
MIRROR_INDEX: tuple[int, ...] = tuple(
    JOINT_INDEX[n.replace("left_", "\0").replace("right_", "left_").replace("\0", "right_")]
    for n in JOINT_NAMES
)
