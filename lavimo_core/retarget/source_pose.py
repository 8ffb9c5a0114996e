"""The source clip's own joint rotations, re-read from the BVH file a Motion came from.

A canonical Motion keeps 22 joint positions; how the head nods, the wrists turn, the toes bend and the
fingers curl is only in the source file's rotations. `source_pose(motion, fps)` re-reads that file (cached
per path, size and mtime), names its joints with the retargeting vocabulary (canonical joints from the
skeleton map, fingers from the bone-map presets) and gives each joint's world rotation in the motion's
canonical space. The rigid transform to canonical space is fitted on the 22 joints, which also proves the
file is still the one the motion was made from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..motion.bvh import forward_kinematics, quats_to_matrices, read_bvh
from ..motion.motion import Motion
from ..motion.resample import resample_local
from ..motion.skeleton import JOINT_NAMES
from ..motion.skeleton_maps import detect_skeleton, normalize_name
from ..rotations import rotvec_to_matrix
from .bone_maps import PRESETS

# The file matches the motion when the fitted joints land within this many metres (RMS).
FIT_TOLERANCE_M = 0.01


@dataclass(frozen=True)
class SourcePose:
    """World rotations (T, J, 3, 3) of the source joints in canonical space, and which joint is which."""

    joints: dict[str, int]     # retargeting joint name (canonical or finger) -> column of `rotations`
    rotations: np.ndarray      # (T, J, 3, 3)
    fps: float
    skeleton: str              # detected source convention ("bandai-namco", "daz", ...)
    path: str

    def rotation(self, joint: str) -> np.ndarray:
        """World rotations (T, 3, 3) of `joint`."""
        return self.rotations[:, self.joints[joint]]


def _world_rotations(quats: np.ndarray, parents: list[int]) -> np.ndarray:
    """World rotation matrices (T, J, 3, 3) from local xyzw quaternions (T, J, 4); parents precede children."""
    local = quats_to_matrices(quats)
    world = np.empty_like(local)
    for j, p in enumerate(parents):
        world[:, j] = local[:, j] if p < 0 else world[:, p] @ local[:, j]
    return world


def _source_joints(names: list[str], parents: list[int], end_site: list[bool], where: str
                   ) -> tuple[dict[str, int], str, object]:
    """Retargeting joint -> source joint index (joints with rotation channels only), the convention, the map."""
    smap = detect_skeleton(names, parents, end_site, where=where)
    joints = {j: i for j, i in zip(JOINT_NAMES, smap.source, strict=True) if i >= 0 and not end_site[i]}
    by_norm = {}
    for i, n in enumerate(names):
        if not end_site[i]:
            by_norm.setdefault(normalize_name(n), i)
    # Joints the skeleton map interpolates (a spine of two bones) or lacks (fingers): by bone-map naming.
    best: dict[str, int] = {}
    for table in PRESETS.values():
        found = {j: by_norm[c] for j, names in table.items() for c in names[:1] if c in by_norm}
        if len(found) > len(best):
            best = found
    return {**best, **joints}, smap.convention, smap


@lru_cache(maxsize=8)
def _read(path: str, size: int, mtime: float, fps: float):
    """The file's local transforms at `fps` and its joint map (cached; size and mtime invalidate)."""
    bvh = read_bvh(path)
    joints, convention, smap = _source_joints(bvh.names, bvh.parents, bvh.end_site, path)
    quats, trans = resample_local(*bvh.local_transforms(), bvh.fps, fps)
    return bvh.parents, joints, convention, smap, quats, trans


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, rotation and translation taking points src (N, 3) onto dst (N, 3) (Umeyama)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    scale = float(np.trace(np.diag(sig) @ d) / (a * a).sum())
    return scale, rot, mu_d - scale * rot @ mu_s


def source_pose(motion: Motion, fps: float) -> tuple[SourcePose | None, str | None]:
    """The motion's source rotations at `fps` (sampled like the solve resamples the joints), or None and why."""
    path = motion.source.path
    if not path or motion.source.format not in ("", "bvh") or not path.lower().endswith(".bvh"):
        return None, None   # HumanML3D features and other joint-only clips: the direction solve does it all
    if not os.path.isfile(path):
        return None, (f"source file {path!r} of {motion.name!r} is not here, so head, hands, fingers and toes follow "
                      "their parent bones; put the file back to transfer them.")
    st = os.stat(path)
    try:
        parents, joints, convention, smap, quats, trans = _read(path, st.st_size, st.st_mtime, float(motion.fps))
    except Exception as exc:  # a changed or unreadable file must not stop the direction solve
        return None, f"source file {path!r} could not be read again ({exc}); extremities follow their parents."
    T = motion.num_frames
    if len(quats) < T:
        return None, (f"source file {path!r} is shorter than {motion.name!r}; it changed since import, so "
                      "extremities follow their parents.")
    positions = forward_kinematics(quats_to_matrices(quats[:T]), trans[:T], parents)
    canon = smap.to_canonical(positions).reshape(-1, 3)
    want = np.asarray(motion.joints, dtype=np.float64).reshape(-1, 3)
    scale, rot, shift = similarity(canon, want)
    rms = float(np.sqrt(((scale * canon @ rot.T + shift - want) ** 2).sum(-1).mean()))
    if rms > FIT_TOLERANCE_M:
        return None, (f"source file {path!r} no longer matches {motion.name!r} ({100 * rms:.1f} cm apart); "
                      "extremities follow their parents.")
    # Resample the local rotations (slerp) to the output rate, as the solve resamples the joints.
    quats, _ = resample_local(quats[:T], trans[:T], motion.fps, fps)
    world = _world_rotations(quats, parents)
    cols = sorted(set(joints.values()))
    column = {i: k for k, i in enumerate(cols)}
    rotations = rot @ world[:, cols]
    return SourcePose({j: column[i] for j, i in joints.items()}, rotations, float(fps), convention, path), None


def yaw_matrices(angle: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) about +Y by `angle` (T,) radians."""
    return rotvec_to_matrix(np.outer(angle, (0.0, 1.0, 0.0)))
