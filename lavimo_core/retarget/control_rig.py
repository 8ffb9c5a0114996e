"""Rigs driven through controls (a generated Rigify rig): which controls to key, and their keys.

On such a rig the deform (DEF-) and original (ORG-) bones follow control bones through constraints, so keys
on them do not show. The motion is solved on the ORG skeleton (the metarig's bones), then each control gets
the basis that puts its ORG bone where the solve wants it. How a control moves its ORG bone, and which control
its own parent follows, are read from the rig by evaluating it (`ControlLink`, filled by the Blender side),
never assumed from Rigify's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..motion.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from .bone_maps import EXTRA_JOINTS, BoneMap, extra_parent
from .rig import Rig, forward_kinematics

# Rigify control -> the ORG bone it moves (FK controls for the limbs, the trunk's own controls).
RIGIFY_CONTROLS: dict[str, str] = {
    "torso": "ORG-spine", "chest": "ORG-spine.003", "neck": "ORG-spine.004", "head": "ORG-spine.006",
}
# Keyed at rest: Rigify spreads the hips' and the spine FK controls' turns over the spine with pivots of its
# own, so the pelvis would not land where its rotation says; the torso carries the pelvis instead.
RIGIFY_AT_REST = ("hips", "spine_fk", "spine_fk.001", "spine_fk.002", "spine_fk.003")
for _s in ("L", "R"):
    RIGIFY_CONTROLS.update({f"{c}.{_s}": f"ORG-{o}.{_s}" for c, o in (
        ("shoulder", "shoulder"), ("upper_arm_fk", "upper_arm"), ("forearm_fk", "forearm"), ("hand_fk", "hand"),
        ("thigh_fk", "thigh"), ("shin_fk", "shin"), ("foot_fk", "foot"), ("toe_fk", "toe"))})
    for _f in ("thumb", "f_index", "f_middle", "f_ring", "f_pinky"):
        RIGIFY_CONTROLS.update({f"{_f}.0{i}.{_s}": f"ORG-{_f}.0{i}.{_s}" for i in (1, 2, 3)})
# The control that carries the body across the floor: keyed with a location as well.
RIGIFY_CARRIER = "torso"
# Custom properties set (and keyed) so each control moves its ORG bone rigidly: limbs in FK, the neck and
# head following the chest instead of blending towards the torso, FK arms and legs following their parents.
RIGIFY_SWITCHES: dict[str, float] = {"IK_FK": 1.0, "FK_limb_follow": 0.0, "neck_follow": 1.0, "head_follow": 1.0}
RIGIFY_SWITCH_BONES = ("torso", "upper_arm_parent.L", "upper_arm_parent.R", "thigh_parent.L", "thigh_parent.R")


def looks_like_generated_rigify(names: set[str]) -> bool:
    """True for a generated Rigify rig: its trunk controls and ORG/DEF spine are there."""
    return {"torso", "hips", "chest", "ORG-spine", "DEF-spine"} <= names


@dataclass(frozen=True)
class ControlLink:
    """How control `name` relates to the rest of the rig, read by evaluating it.

    pose(name) = pose(parent) @ follow @ basis   (parent: another keyed control, or None for the armature)
    pose(driven) = pose(name) @ offset           (the ORG bone it moves)
    Rotations hold exactly; positions only for the carrier (Rigify bends its spine about pivots of its own).
    """

    name: str
    driven: str
    parent: str | None
    follow: np.ndarray    # (4, 4)
    offset: np.ndarray    # (4, 4)


def joint_tree_rig(rig: Rig, bone_map: BoneMap) -> tuple[Rig, BoneMap]:
    """The mapped bones alone, each parented to its joint's parent joint's bone (ORG bones of a generated rig
    hang from MCH and tweak bones; the solve needs the body's own tree)."""
    joints = {**bone_map.joints, **bone_map.extras}
    order = [j for j in JOINT_NAMES + EXTRA_JOINTS if j in joints]

    def parent_joint(j: str) -> str | None:
        while True:
            if j in JOINT_INDEX:
                p = PARENTS[JOINT_INDEX[j]]
                j = JOINT_NAMES[p] if p >= 0 else None
            else:
                j = extra_parent(j)
            if j is None or j in joints:
                return j

    names = [joints[j] for j in order]
    parents = [names.index(joints[p]) if (p := parent_joint(j)) else -1 for j in order]
    idx = [rig.index(n) for n in names]
    sub = Rig(names=names, parents=parents, rest_matrices=rig.rest_matrices[idx], tails=rig.tails[idx],
              name=rig.name)
    return sub, BoneMap(joints=dict(bone_map.joints), root=None, preset=bone_map.preset,
                        warnings=list(bone_map.warnings), extras=dict(bone_map.extras))


def posed_matrices(rig: Rig, rotations: dict[str, np.ndarray], locations: dict[str, np.ndarray],
                   num_frames: int) -> np.ndarray:
    """Armature-space pose matrices (T, N, 4, 4) of `rig` from basis quaternions (w, x, y, z) and locations."""
    basis = np.broadcast_to(np.eye(4), (num_frames, len(rig.names), 4, 4)).copy()
    for bone, q in rotations.items():
        basis[:, rig.index(bone), :3, :3] = Rotation.from_quat(q, scalar_first=True).as_matrix()
    for bone, loc in locations.items():
        basis[:, rig.index(bone), :3, 3] = loc
    return forward_kinematics(rig, basis)


def _rigid_inverse(m: np.ndarray) -> np.ndarray:
    """Inverse of rigid 4x4 matrices (..., 4, 4) (rotation and translation only)."""
    out = np.zeros_like(m)
    rt = np.swapaxes(m[..., :3, :3], -1, -2)
    out[..., :3, :3] = rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", rt, m[..., :3, 3])
    out[..., 3, 3] = 1.0
    return out


def control_bases(links: list[ControlLink], driven_pose: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Basis matrices (T, 4, 4) per control that put every driven bone at `driven_pose` (T, 4, 4) ("parents
    before children" in `links`)."""
    pose: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    for link in links:
        want = driven_pose[link.driven] @ np.linalg.inv(link.offset)
        parent = pose[link.parent] @ link.follow if link.parent else link.follow
        pose[link.name] = want
        out[link.name] = _rigid_inverse(parent) @ want
    return out
