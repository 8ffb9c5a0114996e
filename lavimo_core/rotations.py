"""Rotations in numpy with scipy.spatial.transform.Rotation's conventions, so the Blender add-on runs without
scipy (114 MB installed): quaternions scalar-last (x, y, z, w), rotation matrices acting on column vectors,
rotation vectors (axis * angle), and Euler angles where uppercase axes ("ZXY") are intrinsic rotations (about
the turning body's axes, as BVH channels) and lowercase ("xyz") extrinsic ones (about fixed axes, as Blender's
Euler orders). tests/test_rotations.py holds every function to scipy's results on real BVH clips."""

from __future__ import annotations

import numpy as np

_AXIS = {"x": 0, "y": 1, "z": 2}


def normalize_quat(q: np.ndarray) -> np.ndarray:
    """Quaternions (..., 4) scaled to unit length; a zero quaternion is an error, as in scipy."""
    q = np.asarray(q, dtype=np.float64)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if (norm == 0).any():
        raise ValueError("found zero-norm quaternions")
    return q / norm


def quat_multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The rotation q then p (scipy's `p * q`), xyzw quaternions (..., 4)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    cross = np.cross(p[..., :3], q[..., :3])
    xyz = p[..., 3:] * q[..., :3] + q[..., 3:] * p[..., :3] + cross
    w = p[..., 3] * q[..., 3] - np.sum(p[..., :3] * q[..., :3], axis=-1)
    return np.concatenate([xyz, w[..., None]], axis=-1)


def quat_inverse(q: np.ndarray) -> np.ndarray:
    """Inverse rotations of unit xyzw quaternions (..., 4): the conjugates."""
    q = np.array(q, dtype=np.float64)
    q[..., :3] *= -1.0
    return q


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of xyzw quaternions (..., 4), normalised first."""
    q = normalize_quat(q)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    x2, y2, z2, w2 = x * x, y * y, z * z, w * w
    xy, zw, xz, yw, yz, xw = x * y, z * w, x * z, y * w, y * z, x * w
    m = np.stack([x2 - y2 - z2 + w2, 2 * (xy - zw), 2 * (xz + yw),
                  2 * (xy + zw), -x2 + y2 - z2 + w2, 2 * (yz - xw),
                  2 * (xz - yw), 2 * (yz + xw), -x2 - y2 + z2 + w2], axis=-1)
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: np.ndarray, assume_valid: bool = False) -> np.ndarray:
    """Unit xyzw quaternions (..., 4) of rotation matrices (..., 3, 3); without `assume_valid`, matrices that are
    not orthonormal (float drift, scale) are first replaced by the nearest rotation (SVD), as in scipy."""
    m = np.array(m, dtype=np.float64)
    if not assume_valid and m.size:
        if (np.linalg.det(m) <= 0).any():
            raise ValueError("a rotation matrix has a non-positive determinant (mirrored or degenerate)")
        skewed = ~np.all(np.isclose(m @ np.swapaxes(m, -1, -2), np.eye(3), atol=1e-12, rtol=1e-5), axis=(-2, -1))
        if skewed.any():
            u, _, vt = np.linalg.svd(m[skewed])
            m[skewed] = u @ vt
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    choice = np.argmax(np.stack([m[..., 0, 0], m[..., 1, 1], m[..., 2, 2], trace], axis=-1), axis=-1)
    # Shepperd's method: build the quaternion from its largest component (diagonal entry or trace) for accuracy.
    cases = [
        (1 - trace + 2 * m[..., 0, 0], m[..., 1, 0] + m[..., 0, 1], m[..., 2, 0] + m[..., 0, 2],
         m[..., 2, 1] - m[..., 1, 2]),
        (m[..., 1, 0] + m[..., 0, 1], 1 - trace + 2 * m[..., 1, 1], m[..., 2, 1] + m[..., 1, 2],
         m[..., 0, 2] - m[..., 2, 0]),
        (m[..., 2, 0] + m[..., 0, 2], m[..., 2, 1] + m[..., 1, 2], 1 - trace + 2 * m[..., 2, 2],
         m[..., 1, 0] - m[..., 0, 1]),
        (m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + trace),
    ]
    q = np.zeros(m.shape[:-2] + (4,))
    for k, case in enumerate(cases):
        q = np.where((choice == k)[..., None], np.stack(case, axis=-1), q)
    return normalize_quat(q) if q.size else q


def rotvec_to_quat(v: np.ndarray) -> np.ndarray:
    """xyzw quaternions (..., 4) of rotation vectors (..., 3) (axis times angle in radians)."""
    v = np.asarray(v, dtype=np.float64)
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    small = angle <= 1e-3
    # sin(angle / 2) / angle by its Taylor series near 0, where the division loses precision.
    scale = np.where(small, 0.5 - angle ** 2 / 48 + angle ** 4 / 3840, np.sin(angle / 2) / np.where(small, 1.0, angle))
    return np.concatenate([v * scale, np.cos(angle / 2)], axis=-1)


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """Rotation vectors (..., 3), angle in [0, pi], of xyzw quaternions (..., 4), normalised first."""
    q = normalize_quat(q)
    q = np.where(q[..., 3:] < 0, -q, q)  # w >= 0: the short way
    angle = 2 * np.arctan2(np.linalg.norm(q[..., :3], axis=-1, keepdims=True), q[..., 3:])
    small = angle <= 1e-3
    scale = np.where(small, 2 + angle ** 2 / 12 + 7 * angle ** 4 / 2880,
                     angle / np.where(small, 1.0, np.sin(angle / 2)))
    return scale * q[..., :3]


def rotvec_to_matrix(v: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of rotation vectors (..., 3)."""
    return quat_to_matrix(rotvec_to_quat(v))


def matrix_to_rotvec(m: np.ndarray) -> np.ndarray:
    """Rotation vectors (..., 3) of rotation matrices (..., 3, 3)."""
    return quat_to_rotvec(matrix_to_quat(m))


def _axes(seq: str, lengths: tuple[int, ...] = (3,)) -> tuple[list[int], bool]:
    """Axis indices of an Euler sequence and whether it is intrinsic (uppercase)."""
    if (len(seq) not in lengths or not (seq.isupper() or seq.islower())
            or any(a not in _AXIS for a in seq.lower())):
        raise ValueError(f"Euler sequence {seq!r}: {' or '.join(map(str, lengths))} of x, y, z, all intrinsic (upper) "
                         "or extrinsic (lower)")
    if any(a == b for a, b in zip(seq, seq[1:])):
        raise ValueError(f"Euler sequence {seq!r}: consecutive axes must differ")
    return [_AXIS[a] for a in seq.lower()], seq.isupper()


def euler_to_quat(seq: str, angles: np.ndarray, degrees: bool = False) -> np.ndarray:
    """xyzw quaternions (..., 4) of Euler angles (..., n) about the n = 1..3 axes of `seq`, in order (see the
    module's note on case): a BVH joint may have fewer than three rotation channels."""
    axes, intrinsic = _axes(seq, (1, 2, 3))
    angles = np.asarray(angles, dtype=np.float64)
    if degrees:
        angles = np.deg2rad(angles)
    q = None
    for i, axis in enumerate(axes):
        e = np.zeros(angles.shape[:-1] + (4,))
        e[..., 3] = np.cos(angles[..., i] / 2)
        e[..., axis] = np.sin(angles[..., i] / 2)
        # Intrinsic: each turn is about the already-turned axes (compose on the right); extrinsic: on the left.
        q = e if q is None else (quat_multiply(q, e) if intrinsic else quat_multiply(e, q))
    return q


def quat_to_euler(q: np.ndarray, seq: str, degrees: bool = False) -> np.ndarray:
    """Euler angles (..., 3) in [-pi, pi], listed in `seq` order, of xyzw quaternions (..., 4), normalised first.

    Bernardes & Viollet (2022), as scipy: at gimbal lock (middle angle 0 or pi) the third angle is set to 0.
    """
    axes, intrinsic = _axes(seq)
    q = normalize_quat(q)
    i, j, k = axes if not intrinsic else axes[::-1]
    symmetric = i == k
    if symmetric:
        k = 3 - i - j
    sign = (i - j) * (j - k) * (k - i) // 2
    if symmetric:
        a, b, c, d = q[..., 3], q[..., i], q[..., j], q[..., k] * sign
    else:
        a, b = q[..., 3] - q[..., j], q[..., i] + q[..., k] * sign
        c, d = q[..., j] + q[..., 3], q[..., k] * sign - q[..., i]
    angles = np.zeros(q.shape[:-1] + (3,))
    angles[..., 1] = 2 * np.arctan2(np.hypot(c, d), np.hypot(a, b))
    half_sum, half_diff = np.arctan2(b, a), np.arctan2(d, c)
    first, third = (2, 0) if intrinsic else (0, 2)
    near_0 = np.abs(angles[..., 1]) <= 1e-7
    near_pi = np.abs(angles[..., 1] - np.pi) <= 1e-7
    regular = ~(near_0 | near_pi)
    angles[..., 0] = np.where(near_0, 2 * half_sum, 2 * half_diff * (1 if intrinsic else -1))
    angles[..., first] = np.where(regular, half_sum - half_diff, angles[..., first])
    third_angle = np.where(regular, half_sum + half_diff, angles[..., third])
    if not symmetric:
        third_angle = third_angle * sign
        angles[..., 1] -= np.pi / 2
    angles[..., third] = third_angle
    angles = (angles + np.pi) % (2 * np.pi) - np.pi
    return np.rad2deg(angles) if degrees else angles
