"""Where MediaPipe's 33 landmarks lie on a body built from the 22 canonical joints.

Twelve landmarks are canonical joints (shoulders, elbows, wrists, hips, knees, ankles); the rest
(face, hands, heels, toes), which SMPL lacks, are placed on the rendered body's geometry (body.py),
so the projected landmarks agree with what MediaPipe sees on a render.
"""

from __future__ import annotations

import numpy as np

from ..motion.skeleton import JOINT_INDEX as J
from ..vectors import unit
from ..video.landmarks import JOINT_LANDMARKS, LANDMARK_INDEX, NUM_LANDMARKS
from .body import HEAD_RADII, body_frame, head_pose, heel_and_toe

# Face points on the head ellipsoid: (longitude, latitude) in radians; longitude > 0 is the person's left.
_FACE = {"left_eye_inner": (0.2, 0.08), "left_eye": (0.36, 0.08), "left_eye_outer": (0.52, 0.08),
         "right_eye_inner": (-0.2, 0.08), "right_eye": (-0.36, 0.08), "right_eye_outer": (-0.52, 0.08),
         "mouth_left": (0.15, -0.45), "mouth_right": (-0.15, -0.45)}


def joints_to_landmarks(joints: np.ndarray) -> np.ndarray:
    """Canonical joints (T, 22, 3) -> the 33 MediaPipe landmark positions (T, 33, 3), same space."""
    p = np.asarray(joints, np.float64)
    out = np.zeros(p.shape[:-2] + (NUM_LANDMARKS, 3))
    for li, ji in JOINT_LANDMARKS:
        out[..., li, :] = p[..., ji, :]
    centre, axes = head_pose(p)
    radii = np.asarray(HEAD_RADII)
    for name, (lon, lat) in _FACE.items():
        local = radii * np.array([np.sin(lon) * np.cos(lat), np.sin(lat), np.cos(lon) * np.cos(lat)])
        out[..., LANDMARK_INDEX[name], :] = centre + local @ axes
    out[..., LANDMARK_INDEX["nose"], :] = centre + 0.11 * axes[..., 2, :] - 0.012 * axes[..., 1, :]
    out[..., LANDMARK_INDEX["left_ear"], :] = centre + 0.08 * axes[..., 0, :] - 0.005 * axes[..., 1, :]
    out[..., LANDMARK_INDEX["right_ear"], :] = centre - 0.08 * axes[..., 0, :] - 0.005 * axes[..., 1, :]
    torso = body_frame(p[..., J["left_shoulder"], :] - p[..., J["right_shoulder"], :],
                       p[..., J["neck"], :] - p[..., J["pelvis"], :])
    for side in ("left", "right"):
        wrist = p[..., J[f"{side}_wrist"], :]
        along = unit(wrist - p[..., J[f"{side}_elbow"], :])
        fwd = torso[..., 2, :]
        # Thumb side of a relaxed hand faces forward; SMPL's 22 joints carry no hand orientation.
        thumb_dir = unit(fwd - (fwd * along).sum(-1, keepdims=True) * along)
        out[..., LANDMARK_INDEX[f"{side}_index"], :] = wrist + 0.08 * along + 0.015 * thumb_dir
        out[..., LANDMARK_INDEX[f"{side}_pinky"], :] = wrist + 0.07 * along - 0.02 * thumb_dir
        out[..., LANDMARK_INDEX[f"{side}_thumb"], :] = wrist + 0.045 * along + 0.035 * thumb_dir
        heel, toe = heel_and_toe(p, side)
        out[..., LANDMARK_INDEX[f"{side}_heel"], :] = heel - 0.03 * unit(toe - heel)
        out[..., LANDMARK_INDEX[f"{side}_foot_index"], :] = toe
    return out
