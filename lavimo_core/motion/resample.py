"""Change a motion's frame rate: local joint transforms (slerp rotations, lerp translations) before FK,
or joint positions linearly where that suffices (retargeting targets, rendered videos).

Interpolating the local rotations and then running forward kinematics keeps every bone length exact;
interpolating world positions linearly would shorten limbs that swing between two frames.
"""

from __future__ import annotations

import numpy as np

from ..rotations import normalize_quat, quat_inverse, quat_multiply, quat_to_rotvec, rotvec_to_quat


def resample_indices(num_frames: int, src_fps: float, dst_fps: float) -> tuple[np.ndarray, np.ndarray]:
    """For each output frame, the source frame before it and the blend weight towards the next one."""
    duration = (num_frames - 1) / src_fps
    count = int(np.floor(duration * dst_fps + 1e-6)) + 1   # every output time lies within the source clip
    s = np.arange(count) * (src_fps / dst_fps)
    i0 = np.minimum(np.floor(s + 1e-9).astype(np.int64), max(num_frames - 2, 0))
    frac = np.clip(s - i0, 0.0, 1.0) if num_frames > 1 else np.zeros(count)
    return i0, frac


def resample_positions(joints: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """Joint positions (T, J, 3) at `src_fps` -> the same at `dst_fps`, linearly, keeping the clip's duration."""
    if abs(src_fps - dst_fps) < 1e-9 or len(joints) < 2:
        return joints
    i0, frac = resample_indices(len(joints), src_fps, dst_fps)
    f = frac[:, None, None]
    return joints[i0] * (1.0 - f) + joints[np.minimum(i0 + 1, len(joints) - 1)] * f


def resample_local(quats: np.ndarray, translations: np.ndarray, src_fps: float, dst_fps: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (T, J, 4) xyzw and translations (T, J, 3) at `src_fps` -> the same at `dst_fps`."""
    T, J = quats.shape[:2]
    if T < 2 or abs(src_fps - dst_fps) < 1e-9:
        return quats, translations
    i0, frac = resample_indices(T, src_fps, dst_fps)
    i1 = np.minimum(i0 + 1, T - 1)
    out = quats[i0].copy()
    between = frac > 1e-12  # output frames on a source frame need no blending (every other one at 30 -> 20 fps)
    if between.any():
        w = np.repeat(frac[between], J)[:, None]
        q0 = normalize_quat(quats[i0[between]].reshape(-1, 4))
        q1 = normalize_quat(quats[i1[between]].reshape(-1, 4))
        # Slerp for every (frame, joint) at once: q0 * exp(w * log(q0^-1 q1)), the shortest arc.
        step = rotvec_to_quat(quat_to_rotvec(quat_multiply(quat_inverse(q0), q1)) * w)
        out[between] = quat_multiply(q0, step).reshape(-1, J, 4)
    f = frac[:, None, None]
    trans = translations[i0] * (1.0 - f) + translations[i1] * f
    return out, trans
