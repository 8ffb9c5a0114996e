"""Canonical motion -> per-bone rotations for a target rig, by matching world directions.

Each mapped bone turns so that its direction (head -> the next mapped joint's bone head) follows the
source segment, with its twist taken from a body plane (hips/shoulders across, elbow/knee planes,
the shin for the foot). Working on directions rather than copying local rotations is what makes
T-pose vs A-pose, bone rolls, axis conventions and proportions irrelevant. Rotations are returned
as Blender pose-bone basis quaternions (w, x, y, z), continuous in sign over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..filters1d import gaussian_filter1d
from ..motion.motion import Motion
from ..motion.resample import resample_positions
from ..motion.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from ..vectors import unit
from .bone_maps import BoneMap, BoneMapReport
from .contacts import contact_segments, detect_contacts, detect_hand_contacts, hand_drop, lock_feet, lock_hands
from .errors import EmptyMotionError, RetargetError
from .placement import RigPlacement, foot_bones, place_on_rig
from .rig import Rig
from .root import apply_root_motion, heading_yaw, leg_length, lowest_foot_height
from .rotations import continuous_quaternions, matrices_to_quaternions
from .source_pose import SourcePose, yaw_matrices
from .transfer import transfer_rotations

# The joint a bone points at (pelvis and chest point up the spine).
CHILD: dict[str, str] = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle", "right_knee": "right_ankle",
    "left_ankle": "left_foot", "right_ankle": "right_foot", "left_collar": "left_shoulder",
    "right_collar": "right_shoulder", "left_shoulder": "left_elbow", "right_shoulder": "right_elbow",
    "left_elbow": "left_wrist", "right_elbow": "right_wrist",
}
# Elbows and knees count as bent (their plane sets the limb's twist) from these angles on; below,
# the twist eases towards the straight-limb reference so a straightening limb never flips.
BEND_DEGREES = (8.0, 25.0)
TWIST_SMOOTHING_S = 0.06
TWIST_PRIOR = 0.15
_J = JOINT_INDEX
SPINE_BY_DIRECTION = frozenset({"spine1", "spine2", "spine3"})


@dataclass(frozen=True)
class RetargetOptions:
    """How to retarget: root motion mode, output frame rate, floor contact."""

    root_motion: str = "full"     # "full", "in_place" or "locked_heading"
    fps: float = 20.0             # output frame rate (the scene's); the motion is resampled to it
    floor_contact: bool = True    # keep the feet's height above the floor as in the source
    full_body: bool = True        # with the source file's rotations: head, hands, fingers, toes and twist too
    foot_lock: bool = True        # pin feet planted in the source to the floor (two-bone IK on the legs)
    hand_lock: bool = True        # pin hands the source puts on the floor (two-bone IK on the arms)


@dataclass
class RetargetReport:
    """What the solve did, for the user and for tests."""

    bone_map: BoneMapReport
    scale: float                  # armature units per source metre
    root_motion: str
    root_bone: str
    fps: float
    num_frames: int
    max_penetration: float        # armature units the lowest foot point goes below the floor (0 = never)
    contacts: int = 0             # foot contacts found in the source and locked on the rig
    hand_contacts: int = 0        # hand-on-floor contacts found in the source and locked on the rig
    warnings: list[str] = field(default_factory=list)
    transferred: list[str] = field(default_factory=list)   # joints turned with the source's own rotations
    source_skeleton: str = ""     # the source file's convention when its rotations were used


@dataclass
class RetargetResult:
    """Blender pose-bone basis channels per bone, at `fps`, starting at the motion's first frame."""

    rotations: dict[str, np.ndarray]     # bone -> (T, 4) quaternions (w, x, y, z), sign-continuous
    root_bone: str                        # the bone carrying the trajectory
    root_translation: np.ndarray          # (T, 3) basis location of root_bone
    locations: dict[str, np.ndarray]      # bone -> (T, 3) basis locations (root bone, and the pelvis under it)
    fps: float
    placement: RigPlacement
    source_joints: np.ndarray             # (T, 22, 3) canonical joints followed (resampled, root mode applied)
    report: RetargetReport

    @property
    def num_frames(self) -> int:
        """Number of output frames."""
        return int(self.root_translation.shape[0])


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1, keepdims=True)


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Orthonormal frames (..., 3, 3): x along primary, z normal to the (primary, secondary) plane."""
    x = unit(primary)
    z = unit(np.cross(x, secondary))
    return np.stack([x, np.cross(z, x), z], axis=-1)


def _swing(a: np.ndarray, b: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Apply the smallest rotation taking unit a onto unit b to v (all (..., 3))."""
    k = np.cross(a, b)
    c = np.maximum(1.0 + _dot(a, b), 1e-6)
    return v + np.cross(k, v) + np.cross(k, np.cross(k, v)) / c


def _bend_direction(upper: np.ndarray, straight: np.ndarray, bend: np.ndarray, lower: np.ndarray | None,
                    fps: float = 20.0) -> np.ndarray:
    """Where the limb's lower segment swings when the joint bends (unit, normal to `upper`).

    Reference: `bend` for a limb along `straight` (T-pose arm: forward; hanging leg: backward),
    carried by the smallest rotation onto the actual upper segment. With `lower` (T, 3) given, the
    actual bend direction takes over as the joint bends, averaged over a few frames and weighted by
    how bent the joint is, so a limb passing through straight turns smoothly instead of flipping
    (a straight limb says nothing about its twist).
    """
    u = unit(upper)
    ref = unit(_swing(straight, u, bend))
    ref = unit(ref - _dot(ref, u) * u)
    if lower is None:
        return ref
    actual = unit(lower - _dot(lower, u) * u)
    angle = np.degrees(np.arccos(np.clip(_dot(u, unit(lower)), -1.0, 1.0)))
    w = np.clip((angle - BEND_DEGREES[0]) / (BEND_DEGREES[1] - BEND_DEGREES[0]), 0.0, 1.0)
    w = w * w * (3.0 - 2.0 * w)
    # Average over neighbouring frames the actual bend (weight w) and, weakly, the reference: a straight
    # frame between bent ones keeps their bend plane; a limb straight for a while eases to the reference.
    evidence = w * actual + TWIST_PRIOR * (1.0 - w) * ref
    if len(evidence) > 1:
        evidence = gaussian_filter1d(evidence, TWIST_SMOOTHING_S * fps, axis=0, mode="nearest")
    d = evidence - _dot(evidence, u) * u
    return np.where(np.linalg.norm(d, axis=-1, keepdims=True) > 1e-6, unit(d), ref)


def _targets(p: np.ndarray, mapped: set[str], axes: dict[str, np.ndarray] | None,
             fps: float = 20.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(primary, secondary) vectors per mapped joint from joint positions p (..., 22, 3).

    For the rest pose, `axes` gives the bone's own +Y for joints whose child joint has no bone.
    Rest and source go through this same function, so both sides mean the same thing.
    """
    def at(j):
        return p[..., _J[j], :]

    up = unit((at("left_shoulder") + at("right_shoulder")) / 2 - at("pelvis"))
    hips = at("left_hip") - at("right_hip")
    shoulders = at("left_shoulder") - at("right_shoulder")
    pelvis_left = unit(hips - _dot(hips, up) * up)
    chest_left = unit(shoulders - _dot(shoulders, up) * up)
    pelvis_fwd, chest_fwd = np.cross(pelvis_left, up), np.cross(chest_left, up)
    rest = axes is not None

    def primary(j):
        c = CHILD.get(j)
        while c is not None and c not in mapped:
            c = CHILD.get(c)
        if c is not None:
            return at(c) - at(j)
        return axes[j] if rest else at(CHILD[j]) - at(j)

    def limb(side, hinge_at):
        """(upper segment, bend direction) of an arm (hinge_at="elbow") or a leg ("knee")."""
        sign = 1.0 if side == "left" else -1.0
        top, end = ("shoulder", "wrist") if hinge_at == "elbow" else ("hip", "ankle")
        upper = at(f"{side}_{hinge_at}") - at(f"{side}_{top}")
        lower = None if rest else at(f"{side}_{end}") - at(f"{side}_{hinge_at}")
        if hinge_at == "elbow":
            return upper, _bend_direction(upper, sign * chest_left, chest_fwd, lower, fps)
        return upper, _bend_direction(upper, -up, -pelvis_fwd, lower, fps)

    out = {}
    for j in mapped:
        if j not in CHILD:
            continue  # end joints (head, hands, toes) follow their parent joint's bone
        side, _, part = j.partition("_")
        if j == "pelvis" or j == "spine1":
            sec = hips
        elif j == "spine2":
            sec = unit(hips) + unit(shoulders)
        elif j in ("spine3", "neck"):
            sec = shoulders
        elif part == "collar":
            sec = chest_fwd
        elif part in ("shoulder", "hip"):
            sec = limb(side, "elbow" if part == "shoulder" else "knee")[1]
        else:
            # Forearm, shin and foot turn about the limb's hinge axis (the foot can point along the shin,
            # so the shin itself would not do).
            upper, d = limb(side, "elbow" if part == "elbow" else "knee")
            sec = np.cross(upper, d)
        out[j] = (primary(j), sec)
    return out


def _joint_rotations(rig: Rig, bone_of: dict[str, int], src: np.ndarray, fps: float) -> dict[str, np.ndarray]:
    """World (armature-space) rotation (T, 3, 3) of each mapped joint's bone: source frame @ rest frame^T."""
    rest_rot = rig.rest_rotations
    rest_p = np.full((len(JOINT_NAMES), 3), np.nan)
    for j, i in bone_of.items():
        rest_p[_J[j]] = rig.heads[i]
    axes = {j: rest_rot[i][:, 1] for j, i in bone_of.items()}
    rest_t = _targets(rest_p, set(bone_of), axes)
    src_t = _targets(src, set(bone_of), None, fps)
    out = {}
    for j in rest_t:
        frame = _frame(*src_t[j])
        # Coincident joints (a broken source frame) leave no direction: keep the bone at rest there.
        ok = (np.abs(np.linalg.det(frame) - 1.0) < 1e-3)[:, None, None]
        out[j] = np.where(ok, frame @ _frame(*rest_t[j]).T, np.eye(3))
    for j in JOINT_NAMES:  # end joints (head, hands, toes) follow the nearest mapped ancestor
        if j in bone_of and j not in out:
            a = PARENTS[_J[j]]
            while a != -1 and JOINT_NAMES[a] not in out:
                a = PARENTS[a]
            out[j] = out[JOINT_NAMES[a]] if a != -1 else np.broadcast_to(np.eye(3), (len(src), 3, 3))
    return out


def _root_bone_motion(rig: Rig, root: int, joints: np.ndarray, placement: RigPlacement,
                      options: RetargetOptions) -> tuple[np.ndarray, np.ndarray]:
    """World rotation (T, 3, 3) and head (T, 3) of a separate root bone: the pelvis's ground track and the
    body's smoothed heading (none with a locked heading)."""
    T, up = len(joints), placement.up
    turn = heading_yaw(joints, options.fps)
    turn = turn - turn[0] if options.root_motion != "locked_heading" else np.zeros(T)
    c, s = np.cos(turn)[:, None, None], np.sin(turn)[:, None, None]
    k = np.array([[0, -up[2], up[1]], [up[2], 0, -up[0]], [-up[1], up[0], 0]])
    world = np.eye(3) + s * k + (1 - c) * (k @ k)   # Rodrigues: turn about the up axis
    ground = joints[:, _J["pelvis"]] * (1.0, 0.0, 1.0)
    head = rig.heads[root] + placement.scale * (ground - ground[:1]) @ placement.rotation.T
    return world, head


def _heads_posed(rig: Rig, world: np.ndarray, fixed: dict[int, np.ndarray]) -> np.ndarray:
    """Posed heads (T, N, 3): bones in `fixed` go where given, the rest follow their parents."""
    rest_heads = rig.heads
    heads = np.empty(world.shape[:2] + (3,))
    for i in rig.order:
        p = rig.parents[i]
        if i in fixed:
            heads[:, i] = fixed[i]
        elif p == -1:
            heads[:, i] = rest_heads[i]
        else:
            heads[:, i] = heads[:, p] + world[:, p] @ (rest_heads[i] - rest_heads[p])
    return heads


def _lowest_foot(rig: Rig, feet: list[int], world: np.ndarray, heads: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Height along `up` (T,) of the lowest head or tail of the foot bones."""
    tails = heads[:, feet] + np.einsum("tkij,kj->tki", world[:, feet], rig.tails[feet] - rig.heads[feet])
    return (np.concatenate([heads[:, feet], tails], axis=1) @ up).min(axis=1)


def solve(motion: Motion, rig: Rig, bone_map: BoneMap, options: RetargetOptions | None = None,
          source: SourcePose | None = None) -> RetargetResult:
    """Retarget `motion` onto `rig`: basis rotations for mapped bones, basis location for the root.

    With `source` (the clip's own rotations, `source_pose`), every joint both skeletons have follows the
    source joint's rotation (full-body transfer); without it, the canonical joints follow by direction.
    """
    options = options or RetargetOptions()
    if motion.num_frames == 0:
        raise EmptyMotionError(f"motion {motion.name!r} has no frames; pick another clip.")
    if not np.all(np.isfinite(motion.joints)):
        raise RetargetError(f"motion {motion.name!r} has NaN or infinite joint positions; re-import the file.")
    if options.fps <= 0:
        raise RetargetError(f"output frame rate must be positive, got {options.fps}")
    bone_map.validate(rig)

    joints = resample_positions(motion.joints.astype(np.float64), motion.fps, options.fps)
    turn = heading_yaw(joints, options.fps) if options.root_motion == "locked_heading" else None
    # Contacts from the clip as captured (an in-place clip drags its planted feet backwards).
    planted = detect_contacts(joints, options.fps) if options.foot_lock else np.zeros((len(joints), 2), bool)
    on_hands = detect_hand_contacts(joints, options.fps) if options.hand_lock else np.zeros((len(joints), 2), bool)
    joints = apply_root_motion(joints, options.root_motion, options.fps)
    placement = place_on_rig(rig, bone_map, leg_length(joints))
    src = placement.to_armature(joints)
    T, N = len(joints), len(rig.names)
    bone_of = {j: rig.index(b) for j, b in bone_map.joints.items()}
    joint_of = {i: j for j, i in bone_of.items()}
    joint_world = _joint_rotations(rig, bone_of, src, options.fps)
    transferred: dict[str, np.ndarray] = {}
    if source is not None and options.full_body:
        if source.rotations.shape[0] != T:
            raise RetargetError(f"source rotations have {source.rotations.shape[0]} frames, the motion {T} at "
                                f"{options.fps:g} fps; build them with source_pose(motion, fps).")
        to_armature = placement.rotation if turn is None else placement.rotation @ yaw_matrices(-(turn - turn[0]))
        # The spine keeps the direction solve: skeletons split it into different numbers of bones, so a source
        # spine bone's rotation is not the rig's (its twist comes from the hips and shoulders anyway).
        mapped = (set(bone_of) | set(bone_map.extras)) - SPINE_BY_DIRECTION
        transferred, _ = transfer_rotations(joint_world, {j for j in bone_of if j in CHILD}, mapped, source,
                                            to_armature)
        joint_world.update(transferred)
        for joint in transferred:
            if joint in bone_map.extras:
                bone_of[joint] = rig.index(bone_map.extras[joint])
        joint_of = {i: j for j, i in bone_of.items()}
    pelvis = bone_of["pelvis"]
    root = rig.index(bone_map.root) if bone_map.root else None
    fixed = {pelvis: src[:, _J["pelvis"]]}
    if root is not None:
        root_world, fixed[root] = _root_bone_motion(rig, root, joints, placement, options)

    # Every bone's world rotation: mapped bones as solved, the root bone turning, the others carried along.
    world = np.empty((T, N, 3, 3))
    for i in rig.order:
        if i in joint_of:
            world[:, i] = joint_world[joint_of[i]]
        elif i == root:
            world[:, i] = root_world
        else:
            world[:, i] = world[:, rig.parents[i]] if rig.parents[i] != -1 else np.eye(3)
    heads = _heads_posed(rig, world, fixed)

    # Floor contact: the lowest foot point sits as high above the floor as the source's lowest foot joint.
    warnings = list(bone_map.warnings) + list(placement.warnings)
    feet, below_pelvis, up = foot_bones(rig, bone_map), set(rig.descendants(pelvis)), placement.up
    if options.floor_contact and set(feet) <= below_pelvis:
        target = placement.floor + placement.scale * np.maximum(lowest_foot_height(joints), 0.0)
        lift = target - _lowest_foot(rig, feet, world, heads, up)
        heads[:, [pelvis] + sorted(below_pelvis)] += lift[:, None, None] * up
    elif options.floor_contact:
        warnings.append(f"armature {rig.name!r}: the feet are not below the pelvis bone; floor contact skipped.")
    # Hands on the floor: arms in the joint map, the body lowered first where a planted hand cannot reach.
    arm_joints = [f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist")]
    lock_arms = on_hands.any() and all(j in bone_of for j in arm_joints)
    if lock_arms:
        arms = {s: tuple(bone_of[f"{s}_{j}"] for j in ("shoulder", "elbow", "wrist")) for s in ("left", "right")}
        hands_of = {s: [arms[s][2]] + rig.descendants(arms[s][2]) for s in arms}
        drop = hand_drop(rig, arms, hands_of, world, heads, on_hands, up, placement.floor, options.fps)
        heads[:, [pelvis] + sorted(below_pelvis)] -= drop[:, None, None] * up
    contacts = 0
    if planted.any() and set(feet) <= below_pelvis:
        legs = {s: tuple(bone_of[f"{s}_{j}"] for j in ("hip", "knee", "ankle")) for s in ("left", "right")}
        feet_of = {s: [legs[s][2]] + rig.descendants(legs[s][2]) for s in legs}
        lock_feet(rig, legs, feet_of, world, heads, planted, up, placement.floor, options.fps,
                  [pelvis] + sorted(below_pelvis))
        for i in rig.order:   # bones between thigh and shin (twist, split segments) follow again
            if i not in joint_of and i != root and rig.parents[i] != -1:
                world[:, i] = world[:, rig.parents[i]]
        keep = {pelvis: heads[:, pelvis].copy()} | ({root: heads[:, root].copy()} if root is not None else {})
        heads = _heads_posed(rig, world, keep)
        contacts = sum(len(contact_segments(planted[:, k])) for k in range(2))
    hand_contacts = 0
    if lock_arms:
        lock_hands(rig, arms, hands_of, world, heads, on_hands, up, placement.floor, options.fps)
        for i in rig.order:   # twist bones on the arms follow again
            if i not in joint_of and i != root and rig.parents[i] != -1:
                world[:, i] = world[:, rig.parents[i]]
        keep = {pelvis: heads[:, pelvis].copy()} | ({root: heads[:, root].copy()} if root is not None else {})
        heads = _heads_posed(rig, world, keep)
        hand_contacts = sum(len(contact_segments(on_hands[:, k])) for k in range(2))
    penetration = float(max(0.0, placement.floor - _lowest_foot(rig, feet, world, heads, up).min()))

    # Basis rotation: rest(b)^T world(parent)^T world(b) rest(b); basis location from the posed heads.
    rest_rot = rig.rest_rotations
    rotations, locations = {}, {}
    for i in sorted(set(bone_of.values()) | ({root} if root is not None else set())):
        p = rig.parents[i]
        rel = world[:, i] if p == -1 else np.swapaxes(world[:, p], 1, 2) @ world[:, i]
        rotations[rig.names[i]] = continuous_quaternions(matrices_to_quaternions(rest_rot[i].T @ rel @ rest_rot[i]))
    for i in ([root] if root is not None else []) + [pelvis]:
        p = rig.parents[i]
        if p == -1:
            offset = heads[:, i] - rig.heads[i]
        else:
            offset = np.einsum("tji,tj->ti", world[:, p], heads[:, i] - heads[:, p]) - (rig.heads[i] - rig.heads[p])
        locations[rig.names[i]] = offset @ rest_rot[i]
    root_bone = rig.names[root if root is not None else pelvis]

    report = RetargetReport(
        bone_map=bone_map.report(rig), scale=placement.scale, root_motion=options.root_motion, root_bone=root_bone,
        fps=options.fps, num_frames=T, max_penetration=penetration, warnings=warnings, contacts=contacts,
        hand_contacts=hand_contacts, transferred=[j for j in transferred], source_skeleton=source.skeleton if transferred else "")
    return RetargetResult(rotations=rotations, root_bone=root_bone, root_translation=locations[root_bone],
                          locations=locations, fps=options.fps, placement=placement, source_joints=joints,
                          report=report)
