"""Joints <-> HumanML3D's 263-dim motion features (Guo et al., CVPR 2022), in vectorised numpy.

Layout of one feature row (frame t, uniform skeleton, body frame = root facing +Z):
root rotation velocity about Y [0:1] (half-angle, rad/frame), root linear velocity XZ [1:3],
root height [3:4], 21x3 root-relative joint positions "ric" [4:67], 21x6 local joint rotations
(first two columns of the rotation matrix) [67:193], 22x3 joint velocities [193:259],
foot contacts (left ankle, left foot, right ankle, right foot) [259:263].

joints_to_features follows HumanML3D's process_file step by step, including its quirks (marked
"as HumanML3D"), so features computed here can be mixed with the released HumanML3D data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import LavimoError
from ..filters1d import gaussian_filter1d
from .skeleton import FEATURE_DIM, JOINT_NAMES, NUM_JOINTS, PARENTS


class MotionArrayError(LavimoError, ValueError):
    """A joints or features array that cannot be converted (base class)."""


class BadShapeError(MotionArrayError):
    """The array does not have the expected shape."""


class NonFiniteError(MotionArrayError):
    """The array holds NaN or infinite values."""


class TooFewFramesError(MotionArrayError):
    """The clip is too short for the conversion."""


class DegeneratePoseError(MotionArrayError):
    """A pose whose bones or facing direction are undefined (coincident joints)."""


FEATURE_SLICES: dict[str, slice] = {
    "root_rot_vel": slice(0, 1),
    "root_lin_vel": slice(1, 3),
    "root_y": slice(3, 4),
    "ric": slice(4, 67),
    "rot6d": slice(67, 193),
    "local_vel": slice(193, 259),
    "foot_contact": slice(259, 263),
}

# HumanML3D's t2m_raw_offsets: the rest direction of each bone (joint minus parent), index = joint.
RAW_OFFSETS = np.array([
    [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, -1, 0],
    [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1],
    [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
], dtype=np.float64)

# Bone lengths (m, joint to parent) of HumanML3D's reference skeleton, onto which it puts every clip.
# HumanML3D takes them from frame 0 of AMASS clip 000021, which we do not ship; since every released
# clip lies on that skeleton, they are measured on the real clip humanml3d-sample/new_joints/012314.npy
# (mean over its 170 frames; the per-frame spread is under 2e-6 m, float32 noise). Index = joint.
REFERENCE_BONE_LENGTHS = np.array([
    0.0,        # pelvis (root)
    0.1030740,  # left_hip
    0.1098834,  # right_hip
    0.1315682,  # spine1
    0.3936232,  # left_knee
    0.3901882,  # right_knee
    0.1431902,  # spine2
    0.4324330,  # left_ankle
    0.4256434,  # right_ankle
    0.0573647,  # spine3
    0.1433818,  # left_foot
    0.1494191,  # right_foot
    0.2193600,  # neck
    0.1374868,  # left_collar
    0.1433828,  # right_collar
    0.1030392,  # head
    0.1316140,  # left_shoulder
    0.1229844,  # right_shoulder
    0.2568399,  # left_elbow
    0.2630919,  # right_elbow
    0.2660118,  # left_wrist
    0.2698763,  # right_wrist
])

R_HIP, L_HIP, R_SHOULDER, L_SHOULDER = 2, 1, 17, 16   # HumanML3D's face_joint_indx
LEG_BONES = (5, 8)               # right knee, right ankle: their bone lengths set the scale
FOOT_LEFT, FOOT_RIGHT = (7, 10), (8, 11)
FORWARD_SMOOTHING_SIGMA = 20.0   # frames; gaussian filter on the IK forward direction
# Joints whose IK rotation HumanML3D takes relative to the root's yaw: the first bone of each
# kinematic chain (hips, spine1, and also the collars, whose chain starts at spine3).
_CHAIN_FIRST = (1, 2, 3, 13, 14)


def _as_joints(joints: Any, min_frames: int) -> np.ndarray:
    """Validated float64 copy of a (T, 22, 3) joints array."""
    p = np.array(joints, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3):
        raise BadShapeError(f"joints must have shape (T, {NUM_JOINTS}, 3) (frames, HumanML3D joints, xyz); "
                            f"got {p.shape}")
    if len(p) < min_frames:
        raise TooFewFramesError(f"need at least {min_frames} frames of joints, got {len(p)}")
    if not np.isfinite(p).all():
        bad = np.argwhere(~np.isfinite(p))[0]
        raise NonFiniteError(f"joints contain NaN or infinite values (first at frame {bad[0]}, "
                             f"joint {JOINT_NAMES[bad[1]]!r}); fix or drop those frames")
    return p


def _bone_directions(p: np.ndarray) -> np.ndarray:
    """Unit vector from parent to joint, (T, 22, 3), root row zero; raises on zero-length bones."""
    bones = p[:, 1:] - p[:, list(PARENTS[1:])]
    length = np.linalg.norm(bones, axis=-1, keepdims=True)
    if (length < 1e-9).any():
        t, j = np.argwhere(length[..., 0] < 1e-9)[0]
        raise DegeneratePoseError(f"joint {JOINT_NAMES[j + 1]!r} coincides with its parent "
                                  f"{JOINT_NAMES[PARENTS[j + 1]]!r} at frame {t}; the skeleton mapping is wrong")
    return np.concatenate([np.zeros_like(p[:, :1]), bones / length], axis=1)


def _forward(across: np.ndarray) -> np.ndarray:
    """Horizontal forward (T, 3) = Y x normalised across-the-body vector, as HumanML3D."""
    norm = np.linalg.norm(across, axis=-1, keepdims=True)
    if (norm < 1e-9).any():
        raise DegeneratePoseError(f"hips and shoulders coincide at frame {int(np.argmax(norm < 1e-9))}: "
                                  "cannot tell which way the body faces")
    a = across / norm
    return np.stack([a[:, 2], np.zeros(len(a)), -a[:, 0]], axis=-1)


def _yaw_to_face_z(forward: np.ndarray) -> np.ndarray:
    """Angle (T,) of the rotation about +Y that turns `forward` onto +Z."""
    return -np.arctan2(forward[:, 0], forward[:, 2])


def _yaw_matrix(theta: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about +Y by `theta`."""
    c, s, z, o = np.cos(theta), np.sin(theta), np.zeros_like(theta), np.ones_like(theta)
    return np.stack([c, z, s, z, o, z, -s, z, c], axis=-1).reshape(theta.shape + (3, 3))


def _rotation_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Matrices (..., 3, 3) of the shortest rotation taking unit vectors u onto unit vectors v (HumanML3D's qbetween)."""
    w = np.cross(u, v)
    c = (u * v).sum(-1)
    k = np.zeros(w.shape + (3,))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -w[..., 2], w[..., 1], -w[..., 0]
    k = k - np.swapaxes(k, -1, -2)
    # Rodrigues with (1 - cos)/sin^2 = 1/(1 + cos). Opposite vectors (HumanML3D gives NaN there):
    # a half turn about an axis perpendicular to u.
    flip = c < -1 + 1e-9
    m = np.eye(3) + k + (k @ k) / np.where(flip, 1.0, 1 + c)[..., None, None]
    if flip.any():
        uf = np.broadcast_to(u, v.shape)[flip]
        axis = np.cross(uf, np.eye(3)[np.argmin(np.abs(uf), axis=-1)])
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        m[flip] = 2 * axis[:, :, None] * axis[:, None, :] - np.eye(3)
    return m


def _rotate(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Apply rotation matrices r (..., 3, 3) to vectors v (..., 3)."""
    return np.einsum("...ij,...j->...i", r, v)


def _uniform_skeleton(p: np.ndarray) -> np.ndarray:
    """Re-chain every bone's direction with the reference lengths; root scaled by the leg-length ratio."""
    d = _bone_directions(p)
    leg = sum(np.linalg.norm(p[0, j] - p[0, PARENTS[j]]) for j in LEG_BONES)
    out = np.empty_like(p)
    out[:, 0] = p[:, 0] * (sum(REFERENCE_BONE_LENGTHS[j] for j in LEG_BONES) / leg)
    for j in range(1, NUM_JOINTS):   # parents come before children
        out[:, j] = out[:, PARENTS[j]] + REFERENCE_BONE_LENGTHS[j] * d[:, j]
    return out


def _canonical(p: np.ndarray) -> np.ndarray:
    """Floor at y=0, root xz at the origin at frame 0, facing +Z at frame 0 (HumanML3D's conventions)."""
    p = p - [0.0, p[..., 1].min(), 0.0]
    p = p - p[0, 0] * [1.0, 0.0, 1.0]
    across = (p[:1, R_HIP] - p[:1, L_HIP]) + (p[:1, R_SHOULDER] - p[:1, L_SHOULDER])
    return _rotate(_yaw_matrix(_yaw_to_face_z(_forward(across)))[0], p)


def canonicalize_joints(joints: np.ndarray) -> np.ndarray:
    """Rigidly move joints (T, 22, 3) to floor y=0, root xz at origin and facing +Z at frame 0; proportions kept."""
    return _canonical(_as_joints(joints, min_frames=1)).astype(np.float32)


def _foot_contacts(p: np.ndarray, threshold: float) -> np.ndarray:
    """(T-1, 4) 1.0 where a foot joint moves less than sqrt(threshold) m to the next frame."""
    feet = list(FOOT_LEFT + FOOT_RIGHT)
    step2 = ((p[1:, feet] - p[:-1, feet]) ** 2).sum(-1)
    return (step2 < threshold).astype(np.float64)


def joints_to_features(joints: np.ndarray, feet_threshold: float = 0.002) -> np.ndarray:
    """HumanML3D features (T-1, 263) float32 of joints (T, 22, 3) in metres, Y up, at 20 fps."""
    p = _canonical(_uniform_skeleton(_as_joints(joints, min_frames=2)))
    contacts = _foot_contacts(p, feet_threshold)

    # Root yaw per frame from the smoothed facing direction. As HumanML3D's inverse_kinematics_np:
    # the hip term is left-minus-right here (right-minus-left above), so it partly cancels the
    # shoulder term, and frame 0's root rotation is forced to identity.
    across = (p[:, L_HIP] - p[:, R_HIP]) + (p[:, R_SHOULDER] - p[:, L_SHOULDER])
    forward = gaussian_filter1d(_forward(across), FORWARD_SMOOTHING_SIGMA, axis=0, mode="nearest")
    theta = _yaw_to_face_z(forward)
    theta[0] = 0.0
    root_rot = _yaw_matrix(theta)                                     # world -> body frame, (T, 3, 3)

    # As HumanML3D: arcsin of the Y component of the root's frame-to-frame quaternion.
    rot_vel = np.arcsin(np.sin(np.diff(theta) / 2))[:, None]
    lin_vel = _rotate(root_rot[1:], p[1:, 0] - p[:-1, 0])[:, [0, 2]]
    root_y = p[:-1, 0, 1:2]
    ric = _rotate(root_rot[:, None], p - p[:, :1] * [1.0, 0.0, 1.0])[:, 1:]

    # IK: shortest rotation from each rest direction onto the bone, relative to its chain parent's.
    global_rot = _rotation_between(RAW_OFFSETS[1:], _bone_directions(p)[:, 1:])   # (T, 21, 3, 3)
    parent_rot = np.stack([root_rot if j in _CHAIN_FIRST else global_rot[:, PARENTS[j] - 1]
                           for j in range(1, NUM_JOINTS)], axis=1)
    local_rot = np.swapaxes(parent_rot, -1, -2) @ global_rot
    rot6d = np.concatenate([local_rot[..., :, 0], local_rot[..., :, 1]], axis=-1)

    # As HumanML3D: velocities are turned into the body frame of the earlier frame (the root
    # velocity above uses the later one).
    local_vel = _rotate(root_rot[:-1, None], p[1:] - p[:-1])

    n = len(p) - 1
    out = np.concatenate([rot_vel, lin_vel, root_y, ric[:-1].reshape(n, -1), rot6d[:-1].reshape(n, -1),
                          local_vel.reshape(n, -1), contacts], axis=-1)
    return out.astype(np.float32)


def features_to_joints(features: Any) -> Any:
    """Joints (..., T, 22, 3) from HumanML3D features (..., T, 263), numpy or torch (HumanML3D's recover_from_ric)."""
    is_torch = type(features).__module__.startswith("torch")
    if is_torch:
        import torch
        xp, cat, f = torch, torch.cat, features
    else:
        xp, cat, f = np, np.concatenate, np.asarray(features, dtype=np.float64)
    if f.ndim < 2 or f.shape[-1] != FEATURE_DIM:
        raise BadShapeError(f"features must have shape (T, {FEATURE_DIM}) (or a batch of them); got {tuple(f.shape)}")
    if f.shape[-2] < 1:
        raise TooFewFramesError(f"need at least 1 frame of features, got shape {tuple(f.shape)}")
    if not bool(xp.isfinite(f).all()):
        raise NonFiniteError("features contain NaN or infinite values; HumanML3D drops such clips")

    # Root yaw (half-angle) accumulated from the rotation velocities; frame 0 faces +Z.
    half = xp.cumsum(f[..., 0], -1)
    angle_before = 2 * (half - f[..., 0])          # yaw at each frame
    angle_after = 2 * half                          # yaw at the next frame, which moved the root
    cos_b, sin_b = xp.cos(angle_before)[..., None], xp.sin(angle_before)[..., None]

    # Body-frame root velocities back to the world, summed up to the frame before each.
    vx, vz = f[..., 1], f[..., 2]
    wx = vx * xp.cos(angle_after) - vz * xp.sin(angle_after)
    wz = vx * xp.sin(angle_after) + vz * xp.cos(angle_after)
    root_x, root_z = xp.cumsum(wx, -1) - wx, xp.cumsum(wz, -1) - wz

    ric = f[..., 4:4 + (NUM_JOINTS - 1) * 3].reshape(f.shape[:-1] + (NUM_JOINTS - 1, 3))
    x = ric[..., 0] * cos_b - ric[..., 2] * sin_b + root_x[..., None]
    z = ric[..., 0] * sin_b + ric[..., 2] * cos_b + root_z[..., None]
    others = xp.stack([x, ric[..., 1], z], -1)
    root = xp.stack([root_x, f[..., 3], root_z], -1)[..., None, :]
    joints = cat([root, others], -2)
    return joints if is_torch else joints.astype(np.float32)
