"""Rotation curves in the form a Blender pose bone keys them: quaternions (w, x, y, z), any Euler order,
or axis-angle, continuous over time so interpolation between keys never takes the long way round."""

from __future__ import annotations

import numpy as np

from ..rotations import matrix_to_quat, quat_to_euler

EULER_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")
ROTATION_MODES = ("QUATERNION", "AXIS_ANGLE") + EULER_ORDERS


def matrices_to_quaternions(m: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> quaternions (..., 4) as (w, x, y, z)."""
    flat = m.reshape(-1, 3, 3)
    # Already orthonormal (the usual case: products of rigid matrices) needs no SVD projection, which was a
    # quarter of applying a clip to a Rigify rig; anything else (float drift, scale) is still projected.
    gram = np.einsum("nij,nkj->nik", flat, flat)
    valid = bool(np.abs(gram - np.eye(3)).max() < 1e-5) if len(flat) else True
    q = np.roll(matrix_to_quat(flat, assume_valid=valid), 1, axis=-1)  # xyzw -> wxyz
    return q.reshape(m.shape[:-2] + (4,))


def continuous_quaternions(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 so consecutive quaternions (T, ..., 4) lie in the same hemisphere (w >= 0 first)."""
    q = np.array(q, dtype=np.float64)
    steps = np.sign(np.sum(q[1:] * q[:-1], axis=-1))
    steps[steps == 0] = 1.0
    first = np.where(q[:1, ..., 0] < 0, -1.0, 1.0)
    signs = np.concatenate([first, first * np.cumprod(steps, axis=0)], axis=0)
    return q * signs[..., None]


def quaternions_to_euler(q: np.ndarray, order: str) -> np.ndarray:
    """Quaternions (T, ..., 4) -> Euler angles (T, ..., 3) in Blender's `order`, continuous over time.

    Blender's Euler 'XYZ' applies X first, then Y, then Z about fixed axes (lavimo_core.rotations' extrinsic
    'xyz').
    Like Blender's compatible-Euler conversion, each frame takes whichever of the two equivalent
    angle triples, shifted by whole turns, lies closest to the previous frame.
    """
    if order not in EULER_ORDERS:
        raise ValueError(f"unknown Euler order {order!r}; use one of {EULER_ORDERS}")
    q = np.asarray(q, dtype=np.float64)
    e1 = quat_to_euler(np.roll(q, -1, axis=-1), order.lower())  # at gimbal lock either solution: continuity picks
    e2 = e1 + (np.pi, 0.0, np.pi)  # the other triple for the same rotation
    e2[..., 1] = np.pi - e1[..., 1]
    # quat_to_euler lists angles in sequence order; Blender stores (x, y, z) whatever the order.
    to_xyz = [order.index(axis) for axis in "XYZ"]
    e1, e2 = e1[..., to_xyz], e2[..., to_xyz]
    out = np.empty_like(e1)
    out[0] = e1[0]
    two_pi = 2.0 * np.pi
    for t in range(1, len(e1)):
        prev = out[t - 1]
        a = e1[t] + two_pi * np.round((prev - e1[t]) / two_pi)
        b = e2[t] + two_pi * np.round((prev - e2[t]) / two_pi)
        closer = (np.abs(a - prev).sum(-1) <= np.abs(b - prev).sum(-1))[..., None]
        out[t] = np.where(closer, a, b)
    return out


def quaternions_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """Quaternions (T, 4) -> Blender axis-angle (T, 4) as (angle, x, y, z); the axis is held where angle ~ 0."""
    q = continuous_quaternions(q)
    v = q[:, 1:]
    norm = np.linalg.norm(v, axis=1)
    angle = 2.0 * np.arctan2(norm, q[:, 0])
    axis = np.full_like(v, np.nan)
    ok = norm > 1e-9
    axis[ok] = v[ok] / norm[ok, None]
    # Forward-fill the undefined axes (Blender's default axis is +Y) so the curve does not jump.
    idx = np.where(ok, np.arange(len(q)), -1)
    idx = np.maximum.accumulate(idx)
    axis = np.where((idx >= 0)[:, None], axis[np.maximum(idx, 0)], (0.0, 1.0, 0.0))
    return np.concatenate([angle[:, None], axis], axis=1)


def rotation_channels(rotations: dict[str, np.ndarray], modes: dict[str, str]) -> dict[str, tuple[str, np.ndarray]]:
    """Per bone, the Blender property and values (T, k) that key its quaternions (T, 4) in its rotation mode.

    Bones sharing a mode are converted together (the Euler continuity pass loops over frames once).
    """
    out: dict[str, tuple[str, np.ndarray]] = {}
    for mode in set(modes[b] for b in rotations):
        bones = [b for b in rotations if modes[b] == mode]
        if mode not in ROTATION_MODES:
            raise ValueError(f"unknown rotation mode {mode!r} on bone(s) {bones}")
        q = continuous_quaternions(np.stack([rotations[b] for b in bones], axis=1))  # (T, B, 4)
        if mode == "QUATERNION":
            prop, values = "rotation_quaternion", q
        elif mode == "AXIS_ANGLE":
            prop = "rotation_axis_angle"
            values = np.stack([quaternions_to_axis_angle(q[:, i]) for i in range(len(bones))], axis=1)
        else:
            prop, values = "rotation_euler", quaternions_to_euler(q, mode)
        for i, bone in enumerate(bones):
            out[bone] = (prop, values[:, i])
    return out
