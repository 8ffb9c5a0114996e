"""MediaPipe Pose's 33 landmarks: names, indices, the twelve that are canonical joints, and their mirror.

Where the other 21 lie on a body built from the joints is synthesis/body_landmarks.py.
"""

from __future__ import annotations

from ..motion.skeleton import JOINT_INDEX as J

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)
LANDMARK_INDEX = {n: i for i, n in enumerate(LANDMARK_NAMES)}

# Landmarks that are canonical joints: (landmark index, joint index). PCK is measured on these.
JOINT_LANDMARKS: tuple[tuple[int, int], ...] = tuple(
    (LANDMARK_INDEX[n], J[n]) for n in (
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"))

# Left <-> right landmark swap.
LANDMARK_MIRROR: tuple[int, ...] = tuple(
    LANDMARK_INDEX[n.replace("left", "\0").replace("right", "left").replace("\0", "right")] for n in LANDMARK_NAMES)
