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

from ..motion.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from ..rotations import matrix_to_rotvec, quat_to_matrix, rotvec_to_matrix
from .bone_maps import EXTRA_JOINTS, BoneMap, extra_parent
from .rig import Rig, forward_kinematics

# Rigify control -> the ORG bone it moves (FK controls for the limbs, the trunk's own controls). The torso (the
# carrier, pivoting at the spine's middle) "moves itself": it is placed by `rigify_torso_pose`, rigid with the
# spine bone above the pelvis, and spine_fk (pivoting on that bone's head) turns the pelvis under it.
RIGIFY_CONTROLS: dict[str, str] = {
    "torso": "torso", "spine_fk": "ORG-spine", "chest": "ORG-spine.003", "neck": "ORG-spine.004",
    "head": "ORG-spine.006",
}
# The ORG bone the torso moves with (the pelvis's when a rig lacks it).
RIGIFY_TORSO_BONE = "ORG-spine.001"
# Keyed at rest: Rigify spreads the hips' turn over the spine (two bones copy it at half influence, about pivots
# of their own), and spine_fk.001 is not needed once the torso moves with the spine above the pelvis. spine_fk.002
# and .003 are keyed again by `rigify_chest_bend` to put the chest's head where the source has it.
RIGIFY_AT_REST = ("hips", "spine_fk.001", "spine_fk.002", "spine_fk.003")
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
# Baking onto the IK controls instead (when the user asks): the limbs stay in IK with pole targets, the hand and
# foot IK controls carry the ORG hand and foot (with a location), the poles sit on the side each limb bends to.
RIGIFY_IK_SWITCHES: dict[str, float] = {**RIGIFY_SWITCHES, "IK_FK": 0.0, "pole_vector": 1.0}
RIGIFY_FK_LIMBS = tuple(f"{c}.{s}" for s in ("L", "R") for c in (
    "upper_arm_fk", "forearm_fk", "hand_fk", "thigh_fk", "shin_fk", "foot_fk", "toe_fk"))
RIGIFY_IK_CONTROLS: dict[str, str] = {f"{c}.{s}": f"ORG-{o}.{s}" for s in ("L", "R")
                                      for c, o in (("hand_ik", "hand"), ("foot_ik", "foot"), ("toe_ik", "toe"))}
# Pole target -> (root, middle, end) ORG bones of its limb; a pole "drives" itself (placed, not turned).
RIGIFY_POLES: dict[str, tuple[str, str, str]] = {}
for _s in ("L", "R"):
    RIGIFY_POLES[f"upper_arm_ik_target.{_s}"] = (f"ORG-upper_arm.{_s}", f"ORG-forearm.{_s}", f"ORG-hand.{_s}")
    RIGIFY_POLES[f"thigh_ik_target.{_s}"] = (f"ORG-thigh.{_s}", f"ORG-shin.{_s}", f"ORG-foot.{_s}")


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
        basis[:, rig.index(bone), :3, :3] = quat_to_matrix(np.roll(q, -1, axis=-1))  # wxyz -> xyzw
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


def rigify_torso_pose(torso_rest: np.ndarray, bone_rest: np.ndarray, bone_pose: np.ndarray) -> np.ndarray:
    """Armature-space poses (T, 4, 4) of Rigify's torso control rigid with the spine bone above the pelvis (its rest
    and solved poses, (4, 4) and (T, 4, 4)): with the hips' chain at rest, the spine's middle (the torso's pivot,
    where the chest chain hangs) and the pelvis's tail then sit where the solve has them. Carrying the pelvis
    instead put them off by the source's lower-spine bend (7.7 cm on a dancer leaning on one hand)."""
    return bone_pose @ (np.linalg.inv(bone_rest) @ torso_rest)


# Rigify's torso: the chest control turns MCH-spine.002 (under the torso, about the spine's middle pivot) and
# MCH-spine.003 by half its turn each (Copy Transforms at 0.5), so the chest's head swings by half the chest's
# turn. spine_fk.002 (under MCH-spine.002) swings it to where the source has it; spine_fk.003 (under
# MCH-spine.003, pivoting on the chest's head) then gives the chest back the turn it should have. These are the
# roles (named as on a generated rig); the Blender side finds the rig's own bones for them by their constraints.
RIGIFY_CHEST_CHAIN = ("torso", "chest", "MCH-spine.002", "spine_fk.002", "MCH-spine.003", "spine_fk.003",
                      "ORG-spine.003")


def _half_turns(r: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) halved along the shortest path, as Blender blends a constraint at influence 0.5."""
    return rotvec_to_matrix(0.5 * matrix_to_rotvec(r))


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shortest rotations (T, 3, 3) turning direction a (3,) onto directions b (T, 3)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    axis = np.cross(a, b)
    angle = np.arctan2(np.linalg.norm(axis, axis=-1), b @ a)
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    return rotvec_to_matrix(np.where(norm > 1e-12, axis / np.maximum(norm, 1e-12), 0.0) * angle[:, None])


def rigify_chest_bend(rest: dict[str, np.ndarray], torso_pose: np.ndarray, chest_basis: np.ndarray,
                      chest_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Basis rotations (T, 3, 3) of spine_fk.002 and spine_fk.003 that put ORG-spine.003 at `chest_target`
    (T, 4, 4; its head as close as the rig's spine length allows, its turn exactly), given the torso's
    armature-space pose (T, 4, 4) and the chest control's basis (T, 4, 4); `rest`: armature-space rest
    matrices of RIGIFY_CHEST_CHAIN."""
    def rel(parent: str, child: str) -> np.ndarray:
        return np.linalg.inv(rest[parent]) @ rest[child]

    half = np.broadcast_to(np.eye(4), chest_basis.shape).copy()
    half[:, :3, :3] = _half_turns(chest_basis[:, :3, :3])
    mch2 = torso_pose @ rel("torso", "MCH-spine.002") @ half
    fk2_rest = mch2 @ rel("MCH-spine.002", "spine_fk.002")          # spine_fk.002 with an identity basis
    head = rel("spine_fk.002", "ORG-spine.003")[:3, 3]               # the chest's head in spine_fk.002's frame
    local_target = np.einsum("tji,tj->ti", fk2_rest[:, :3, :3], chest_target[:, :3, 3] - fk2_rest[:, :3, 3])
    fk2 = _align(head, local_target)
    fk2_pose = fk2_rest.copy()
    fk2_pose[:, :3, :3] = fk2_rest[:, :3, :3] @ fk2
    fk3_rest = fk2_pose @ rel("spine_fk.002", "MCH-spine.003") @ half @ rel("MCH-spine.003", "spine_fk.003")
    to_org = rel("spine_fk.003", "ORG-spine.003")[:3, :3]
    fk3 = np.swapaxes(fk3_rest[:, :3, :3], -1, -2) @ chest_target[:, :3, :3] @ to_org.T
    return fk2, fk3


def pole_poses(rest_pole: np.ndarray, rest_middle: np.ndarray, pose: dict[str, np.ndarray],
               limb: tuple[str, str, str]) -> np.ndarray:
    """Armature-space poses (T, 4, 4) of a pole target: its rest turn, on the side the limb's middle joint bends
    to (the rest pole's distance from it), so an IK chain aimed at it bends in the solved limb's plane."""
    root, middle, end = (pose[b][:, :3, 3] for b in limb)
    line = end - root
    t = np.sum((middle - root) * line, axis=-1, keepdims=True) / np.maximum(np.sum(line * line, -1, keepdims=True),
                                                                           1e-12)
    side = middle - (root + t * line)
    # A straight limb bends nowhere in particular: carry the rest offset with the limb's middle bone instead.
    turned = np.einsum("tij,j->ti", pose[limb[1]][:, :3, :3] @ rest_middle[:3, :3].T,
                       rest_pole[:3, 3] - rest_middle[:3, 3])
    size = np.linalg.norm(side, axis=-1, keepdims=True)
    side = np.where(size > 1e-3 * np.linalg.norm(line, axis=-1, keepdims=True), side / np.maximum(size, 1e-12),
                    turned / np.linalg.norm(turned, axis=-1, keepdims=True))
    out = np.broadcast_to(rest_pole, (len(side), 4, 4)).copy()
    out[:, :3, 3] = middle + side * np.linalg.norm(rest_pole[:3, 3] - rest_middle[:3, 3])
    return out
