"""Full-body transfer: every joint both skeletons have turns with the source joint's own rotation.

The direction solve poses the canonical joints well but knows nothing of a head's nod, a wrist's turn,
a toe or a finger. Here each bone's world rotation becomes Q(t) = S(t) @ A: S is the source joint's world
rotation (armature axes), A a constant that aligns the two skeletons' rest conventions (T/A-pose, rolls,
axis conventions). For joints the direction solve also poses, A is the rotation that best carries S onto
its result over the whole clip (so the rest-pose alignment comes from the body's own planes); joints it
cannot pose (head, hands, toes, fingers) take their parent's A, i.e. the source's zero local rotation means
the rig's rest pose relative to the parent bone.
"""

from __future__ import annotations

import numpy as np

from ..motion.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from .bone_maps import EXTRA_JOINTS, extra_parent
from .source_pose import SourcePose


def _nearest_rotation(m: np.ndarray) -> np.ndarray:
    """The rotation closest to the 3x3 matrix `m` (Frobenius norm)."""
    u, _, vt = np.linalg.svd(m)
    return u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt


def _parent(joint: str) -> str | None:
    if joint in JOINT_INDEX:
        p = PARENTS[JOINT_INDEX[joint]]
        return JOINT_NAMES[p] if p >= 0 else None
    return extra_parent(joint)


def transfer_rotations(direction: dict[str, np.ndarray], posed_by_direction: set[str], mapped: set[str],
                       source: SourcePose, to_armature: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """World (delta) rotations (T, 3, 3) of every `mapped` joint the source has, and each one's fit residual.

    `direction` holds the direction solve's world rotations, `posed_by_direction` the joints it poses from
    their own segment (not end joints copying a parent); `to_armature` (T, 3, 3) or (3, 3) takes canonical
    axes to armature axes (the rig's placement, and the heading lock when there is one).
    """
    align: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    residual: dict[str, float] = {}
    for joint in JOINT_NAMES + EXTRA_JOINTS:   # parents before children
        if joint not in mapped or joint not in source.joints:
            continue
        s = to_armature @ source.rotation(joint)
        if joint in posed_by_direction:
            a = _nearest_rotation(np.einsum("tji,tjk->ik", s, direction[joint]))
            diff = np.einsum("tij,tij->t", s @ a, direction[joint])   # trace of Q_s^T Q_d
            residual[joint] = float(np.degrees(np.arccos(np.clip((diff - 1) / 2, -1, 1))).mean())
        else:
            p = _parent(joint)
            while p is not None and p not in align:
                p = _parent(p)
            if p is None:
                continue
            a = align[p]
        align[joint] = a
        out[joint] = s @ a
    return out, residual
