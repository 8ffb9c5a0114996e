"""Rest poses of the test and demo rigs (Mixamo-, Rigify-, SMPL-, Unreal-like, an A-pose BVH rig, and rigs named
and posed as Character Creator, VRoid, UE5 Manny and Auto-Rig Pro exports reach Blender), as data.

Each preset lists bones as (name, parent, head, tail, roll) in its armature space, plus the armature
object's transform and the character's declared facing/up, so the same rigs can be built in Blender
(`lavimo_blender.apply.rig_builder`) and used without Blender (`preset_rig`). Bodies are built from one
T-pose template (metres, Z up, facing -Y, character's left = +X) with per-preset proportions,
arm pose, bone rolls, units and axes, so the retargeter meets real rig differences.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .rig import Rig, bone_matrix


@dataclass(frozen=True)
class BoneSpec:
    """One bone: name, parent name (None = top level), head, tail, roll (radians), connected to parent."""

    name: str
    parent: str | None
    head: tuple[float, float, float]
    tail: tuple[float, float, float]
    roll: float = 0.0
    connect: bool = False


@dataclass(frozen=True)
class RigPreset:
    """A rig to build: bones (armature space), the object's rotation (XYZ Euler) and uniform scale,
    and the character's facing and up in armature space (the truth tests compare against)."""

    name: str
    bones: tuple[BoneSpec, ...]
    object_rotation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    object_scale: float = 1.0
    forward: tuple[float, float, float] = (0.0, -1.0, 0.0)
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    units_per_metre: float = 1.0


# Template T-pose, metres, Z up, facing -Y; the character's left side is +X. Left side only; mirrored.
_CENTRE = {
    "pelvis": (0.0, 0.0, 0.96), "spine1": (0.0, 0.005, 1.07), "spine2": (0.0, 0.01, 1.20),
    "spine3": (0.0, 0.005, 1.33), "neck": (0.0, 0.015, 1.50), "head": (0.0, 0.0, 1.60),
    "head_top": (0.0, -0.01, 1.78),
}
_LEFT = {
    "hip": (0.085, 0.005, 0.88), "knee": (0.095, -0.005, 0.50), "ankle": (0.10, 0.025, 0.085),
    "ball": (0.11, -0.09, 0.01), "toe_end": (0.115, -0.16, 0.01),
    "collar": (0.035, 0.0, 1.44), "shoulder": (0.175, 0.015, 1.43), "elbow": (0.45, 0.025, 1.43),
    "wrist": (0.70, 0.015, 1.43), "hand_end": (0.79, 0.015, 1.43),
}
_FINGERS = {  # base knuckle offset from the wrist, and segment direction
    "Thumb": ((0.02, -0.03, -0.015), (0.7, -0.6, -0.2)), "Index": ((0.09, -0.025, 0.0), (1, 0, 0)),
    "Middle": ((0.095, -0.005, 0.0), (1, 0, 0)), "Ring": ((0.09, 0.015, 0.0), (1, 0, 0)),
    "Pinky": ((0.08, 0.032, -0.005), (1, 0, 0)),
}
_FINGER_SEGMENTS = (0.035, 0.025, 0.02, 0.015)

# Which template point each point hangs from, and the proportion group scaling that offset.
_TREE = {
    "spine1": ("pelvis", "spine"), "spine2": ("spine1", "spine"), "spine3": ("spine2", "spine"),
    "neck": ("spine3", "spine"), "head": ("neck", "spine"), "head_top": ("head", "spine"),
    "hip": ("pelvis", "hips"), "knee": ("hip", "legs"), "ankle": ("knee", "legs"), "ball": ("ankle", "feet"),
    "toe_end": ("ball", "feet"), "collar": ("spine3", "shoulders"), "shoulder": ("collar", "shoulders"),
    "elbow": ("shoulder", "arms"), "wrist": ("elbow", "arms"), "hand_end": ("wrist", "arms"),
}


def _body(scales: dict[str, float] | None = None, arm_down_deg: float = 0.0, elbow_bend_deg: float = 0.0,
          fingers: bool = False) -> dict[str, np.ndarray]:
    """Template points (both sides, '.L'/'.R' suffixes for sided ones), with proportions and arm pose."""
    scales = scales or {}
    base = {k: np.array(v, float) for k, v in _CENTRE.items()}
    for k, v in _LEFT.items():
        base[k + ".L"] = np.array(v, float)
        base[k + ".R"] = np.array(v, float) * (-1, 1, 1)
    pts = {"pelvis": base["pelvis"].copy()}
    for name in base:
        if name == "pelvis":
            continue
        key, side = (name[:-2], name[-2:]) if name[-2:] in (".L", ".R") else (name, "")
        parent, group = _TREE[key]
        parent = parent + side if parent + side in base else parent
        pts[name] = pts[parent] + scales.get(group, 1.0) * (base[name] - base[parent])
    # Overall size, then stand the body on the floor (toe points at z = 0.01).
    size = scales.get("all", 1.0)
    pts = {k: v * size for k, v in pts.items()}
    for side, sign in ((".L", 1.0), (".R", -1.0)):
        s0 = pts["shoulder" + side]
        arm = [k + side for k in ("elbow", "wrist", "hand_end")]
        a = -np.radians(arm_down_deg) * sign  # about Y: the arm tips down
        rot = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])  # about Y
        for k in arm:
            pts[k] = s0 + rot @ (pts[k] - s0)
        if elbow_bend_deg:
            e0 = pts["elbow" + side]
            axis = np.cross(pts["elbow" + side] - s0, (0.0, -1.0, 0.0))
            bend = _axis_angle(axis, np.radians(elbow_bend_deg))
            for k in arm[1:]:
                pts[k] = e0 + bend @ (pts[k] - e0)
        if fingers:
            wrist, along = pts["wrist" + side], pts["hand_end" + side] - pts["wrist" + side]
            frame = _axis_angle(np.cross((sign, 0.0, 0.0), along), np.arccos(np.clip(
                np.dot(along / np.linalg.norm(along), (sign, 0, 0)), -1, 1)))
            for finger, (offset, direction) in _FINGERS.items():
                p = wrist + frame @ (np.array(offset) * (sign, 1, 1) * size * scales.get("arms", 1.0))
                d = frame @ (np.array(direction, float) * (sign, 1, 1))
                d /= np.linalg.norm(d)
                for i, seg in enumerate((0.0,) + _FINGER_SEGMENTS):
                    p = p + d * seg * size * scales.get("arms", 1.0)
                    pts[f"{finger}{i}{side}"] = p
    lift = 0.01 - min(pts[k][2] for k in pts if k.startswith(("ankle", "ball", "toe_end")))
    return {k: v + (0.0, 0.0, lift) for k, v in pts.items()}


def _axis_angle(axis, angle: float) -> np.ndarray:
    axis = np.asarray(axis, float)
    n = np.linalg.norm(axis)
    if n < 1e-12:
        return np.eye(3)
    x, y, z = axis / n
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _bones(pts: dict[str, np.ndarray], table: list[tuple], rolls: dict[str, float] | None = None,
           transform: np.ndarray | None = None) -> tuple[BoneSpec, ...]:
    """BoneSpecs from (name, parent, head point, tail point) rows; points may be arrays or point names."""
    rolls = rolls or {}
    m = np.eye(4) if transform is None else transform
    out, tails = [], {}
    for name, parent, head, tail in table:
        h = pts[head] if isinstance(head, str) else np.asarray(head, float)
        t = pts[tail] if isinstance(tail, str) else np.asarray(tail, float)
        h, t = m[:3, :3] @ h + m[:3, 3], m[:3, :3] @ t + m[:3, 3]
        connect = parent is not None and np.allclose(tails.get(parent, np.nan), h)
        out.append(BoneSpec(name, parent, tuple(h.tolist()), tuple(t.tolist()), rolls.get(name, 0.0), bool(connect)))
        tails[name] = t
    return tuple(out)


def _mid(pts, a, b, f=0.5):
    return pts[a] + f * (pts[b] - pts[a])


def _mixamo() -> RigPreset:
    """Mixamo as Blender imports its FBX: bones in centimetres in a Y-up armature, object rotated 90
    degrees about X and scaled 0.01; 65 bones with fingers and end bones."""
    pts = _body(fingers=True)
    p = "mixamorig:"
    rows = [(p + "Hips", None, "pelvis", "spine1"), (p + "Spine", p + "Hips", "spine1", "spine2"),
            (p + "Spine1", p + "Spine", "spine2", "spine3"), (p + "Spine2", p + "Spine1", "spine3", "neck"),
            (p + "Neck", p + "Spine2", "neck", "head"), (p + "Head", p + "Neck", "head", "head_top"),
            (p + "HeadTop_End", p + "Head", "head_top", pts["head_top"] + (0, 0, 0.05))]
    for s, side in (("Left", ".L"), ("Right", ".R")):
        rows += [(p + s + "Shoulder", p + "Spine2", "collar" + side, "shoulder" + side),
                 (p + s + "Arm", p + s + "Shoulder", "shoulder" + side, "elbow" + side),
                 (p + s + "ForeArm", p + s + "Arm", "elbow" + side, "wrist" + side),
                 (p + s + "Hand", p + s + "ForeArm", "wrist" + side, "hand_end" + side)]
        for finger in _FINGERS:
            for i in range(4):
                parent = p + s + "Hand" if i == 0 else f"{p}{s}Hand{finger}{i}"
                rows.append((f"{p}{s}Hand{finger}{i + 1}", parent, f"{finger}{i}{side}", f"{finger}{i + 1}{side}"))
        rows += [(p + s + "UpLeg", p + "Hips", "hip" + side, "knee" + side),
                 (p + s + "Leg", p + s + "UpLeg", "knee" + side, "ankle" + side),
                 (p + s + "Foot", p + s + "Leg", "ankle" + side, "ball" + side),
                 (p + s + "ToeBase", p + s + "Foot", "ball" + side, "toe_end" + side),
                 (p + s + "Toe_End", p + s + "ToeBase", "toe_end" + side, pts["toe_end" + side] + (0, -0.03, 0))]
    # Z-up metres -> Y-up centimetres (x, y, z) -> (x, z, -y) * 100; the object rotation undoes it.
    to_yup = np.array([[100.0, 0, 0, 0], [0, 0, 100, 0], [0, -100, 0, 0], [0, 0, 0, 1]])
    return RigPreset("mixamo", _bones(pts, rows, transform=to_yup), object_rotation=(np.pi / 2, 0.0, 0.0),
                     object_scale=0.01, forward=(0.0, 0.0, 1.0), up=(0.0, 1.0, 0.0), units_per_metre=100.0)


def _rigify() -> RigPreset:
    """Rigify's deform bones (DEF-), with two-segment limbs, helper bones and rolled bones."""
    pts = _body({"legs": 1.05, "arms": 0.97, "hips": 1.1})
    pts["neck_mid"] = _mid(pts, "neck", "head")
    d = "DEF-"
    rows = [(d + "spine", None, "pelvis", "spine1"), (d + "spine.001", d + "spine", "spine1", "spine2"),
            (d + "spine.002", d + "spine.001", "spine2", "spine3"),
            (d + "spine.003", d + "spine.002", "spine3", "neck"),
            (d + "spine.004", d + "spine.003", "neck", "neck_mid"),
            (d + "spine.005", d + "spine.004", "neck_mid", "head"),
            (d + "spine.006", d + "spine.005", "head", "head_top")]
    rolls = {}
    for side in (".L", ".R"):
        sgn = 1.0 if side == ".L" else -1.0
        for a, b, name in (("hip", "knee", "thigh"), ("knee", "ankle", "shin"), ("shoulder", "elbow", "upper_arm"),
                           ("elbow", "wrist", "forearm")):
            pts[name + "_mid" + side] = _mid(pts, a + side, b + side)
        pts["pelvis_tip" + side] = pts["pelvis"] + (0.11 * sgn, -0.06, 0.05)
        pts["breast_tip" + side] = pts["spine3"] + (0.1 * sgn, -0.14, -0.02)
        pts["breast" + side] = pts["spine3"] + (0.1 * sgn, -0.06, -0.02)
        rows += [(d + "pelvis" + side, d + "spine", "pelvis", "pelvis_tip" + side),
                 (d + "thigh" + side, d + "spine", "hip" + side, "thigh_mid" + side),
                 (d + "thigh" + side + ".001", d + "thigh" + side, "thigh_mid" + side, "knee" + side),
                 (d + "shin" + side, d + "thigh" + side + ".001", "knee" + side, "shin_mid" + side),
                 (d + "shin" + side + ".001", d + "shin" + side, "shin_mid" + side, "ankle" + side),
                 (d + "foot" + side, d + "shin" + side + ".001", "ankle" + side, "ball" + side),
                 (d + "toe" + side, d + "foot" + side, "ball" + side, "toe_end" + side),
                 (d + "breast" + side, d + "spine.003", "breast" + side, "breast_tip" + side),
                 (d + "shoulder" + side, d + "spine.003", "collar" + side, "shoulder" + side),
                 (d + "upper_arm" + side, d + "shoulder" + side, "shoulder" + side, "upper_arm_mid" + side),
                 (d + "upper_arm" + side + ".001", d + "upper_arm" + side, "upper_arm_mid" + side, "elbow" + side),
                 (d + "forearm" + side, d + "upper_arm" + side + ".001", "elbow" + side, "forearm_mid" + side),
                 (d + "forearm" + side + ".001", d + "forearm" + side, "forearm_mid" + side, "wrist" + side),
                 (d + "hand" + side, d + "forearm" + side + ".001", "wrist" + side, "hand_end" + side)]
        # Rolls in the spirit of a generated Rigify rig: elbows and knees hinge about local X.
        rolls.update({d + "upper_arm" + side: 1.2 * sgn, d + "upper_arm" + side + ".001": 1.25 * sgn,
                      d + "forearm" + side: 1.6 * sgn, d + "forearm" + side + ".001": 1.5 * sgn,
                      d + "hand" + side: 2.9 * sgn, d + "shoulder" + side: -0.4 * sgn,
                      d + "thigh" + side: 0.15 * sgn, d + "shin" + side: -0.1 * sgn, d + "foot" + side: 3.0})
    return RigPreset("rigify", _bones(pts, rows, rolls))


def _smpl() -> RigPreset:
    """SMPL-X bone names (as the SMPL-X Blender add-on names them) under a separate root bone."""
    pts = _body({"all": 0.95, "hips": 1.2, "legs": 0.94, "spine": 1.05})
    rows = [("root", None, (0.0, 0.0, 0.0), (0.0, -0.2, 0.0)), ("pelvis", "root", "pelvis", "spine1"),
            ("spine1", "pelvis", "spine1", "spine2"), ("spine2", "spine1", "spine2", "spine3"),
            ("spine3", "spine2", "spine3", "neck"), ("neck", "spine3", "neck", "head"),
            ("head", "neck", "head", "head_top")]
    for s, side in (("left", ".L"), ("right", ".R")):
        rows += [(s + "_hip", "pelvis", "hip" + side, "knee" + side),
                 (s + "_knee", s + "_hip", "knee" + side, "ankle" + side),
                 (s + "_ankle", s + "_knee", "ankle" + side, "ball" + side),
                 (s + "_foot", s + "_ankle", "ball" + side, "toe_end" + side),
                 (s + "_collar", "spine3", "collar" + side, "shoulder" + side),
                 (s + "_shoulder", s + "_collar", "shoulder" + side, "elbow" + side),
                 (s + "_elbow", s + "_shoulder", "elbow" + side, "wrist" + side),
                 (s + "_wrist", s + "_elbow", "wrist" + side, "hand_end" + side)]
    return RigPreset("smpl", _bones(pts, rows))


def _apose() -> RigPreset:
    """A Bandai-Namco/BVH-named rig in A-pose (arms 40 degrees down, elbows bent), short legs, long arms,
    every bone rolled."""
    pts = _body({"legs": 0.9, "arms": 1.1, "spine": 1.08}, arm_down_deg=40.0, elbow_bend_deg=12.0)
    rows = [("Hips", None, "pelvis", "spine1"), ("Spine", "Hips", "spine1", "spine3"),
            ("Chest", "Spine", "spine3", "neck"), ("Neck", "Chest", "neck", "head"),
            ("Head", "Neck", "head", "head_top")]
    for side, s in ((".L", "_L"), (".R", "_R")):
        rows += [("Shoulder" + s, "Chest", "collar" + side, "shoulder" + side),
                 ("UpperArm" + s, "Shoulder" + s, "shoulder" + side, "elbow" + side),
                 ("LowerArm" + s, "UpperArm" + s, "elbow" + side, "wrist" + side),
                 ("Hand" + s, "LowerArm" + s, "wrist" + side, "hand_end" + side),
                 ("UpperLeg" + s, "Hips", "hip" + side, "knee" + side),
                 ("LowerLeg" + s, "UpperLeg" + s, "knee" + side, "ankle" + side),
                 ("Foot" + s, "LowerLeg" + s, "ankle" + side, "ball" + side),
                 ("Toes" + s, "Foot" + s, "ball" + side, "toe_end" + side)]
    rolls = {name: (i * 1.37) % 6.0 - 3.0 for i, (name, *_) in enumerate(rows)}
    return RigPreset("apose", _bones(pts, rows, rolls))


def _unreal() -> RigPreset:
    """The UE5 mannequin's names (spine_01..05, neck_01/02, twist and IK helper bones), facing +Y."""
    pts = _body({"arms": 1.03, "legs": 1.02})
    for i, f in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        pts[f"s{i + 1}"] = _mid(pts, "spine1", "spine3", f)
    pts["neck2"] = _mid(pts, "neck", "head")
    rows = [("root", None, (0.0, 0.0, 0.0), (0.0, 0.25, 0.0)), ("pelvis", "root", "pelvis", "s1"),
            ("spine_01", "pelvis", "s1", "s2"), ("spine_02", "spine_01", "s2", "s3"),
            ("spine_03", "spine_02", "s3", "s4"),
            ("spine_04", "spine_03", "s4", "s5"), ("spine_05", "spine_04", "s5", "neck"),
            ("neck_01", "spine_05", "neck", "neck2"), ("neck_02", "neck_01", "neck2", "head"),
            ("head", "neck_02", "head", "head_top"), ("ik_foot_root", "root", (0.0, 0.0, 0.0), (0.0, 0.0, 0.1))]
    for side, s in ((".L", "_l"), (".R", "_r")):
        pts["thigh_mid" + side] = _mid(pts, "hip" + side, "knee" + side)
        pts["upper_mid" + side] = _mid(pts, "shoulder" + side, "elbow" + side)
        rows += [("clavicle" + s, "spine_05", "collar" + side, "shoulder" + side),
                 ("upperarm" + s, "clavicle" + s, "shoulder" + side, "elbow" + side),
                 ("upperarm_twist_01" + s, "upperarm" + s, "upper_mid" + side, "elbow" + side),
                 ("lowerarm" + s, "upperarm" + s, "elbow" + side, "wrist" + side),
                 ("hand" + s, "lowerarm" + s, "wrist" + side, "hand_end" + side),
                 ("thigh" + s, "pelvis", "hip" + side, "knee" + side),
                 ("thigh_twist_01" + s, "thigh" + s, "thigh_mid" + side, "knee" + side),
                 ("calf" + s, "thigh" + s, "knee" + side, "ankle" + side),
                 ("foot" + s, "calf" + s, "ankle" + side, "ball" + side),
                 ("ball" + s, "foot" + s, "ball" + side, "toe_end" + side),
                 ("ik_foot" + s, "ik_foot_root", "ankle" + side, "ball" + side)]
    turn = np.diag([-1.0, -1.0, 1.0, 1.0])  # 180 degrees about Z: face +Y
    return RigPreset("unreal", _bones(pts, rows, transform=turn), forward=(0.0, 1.0, 0.0))


def _roll_for_x(head, tail, x_axis) -> float:
    """The roll that turns the bone's local X as close as it gets to `x_axis` (about the bone's own Y)."""
    rest = bone_matrix(np.asarray(head, float), np.asarray(tail, float), 0.0)[:3, :3]
    y = rest[:, 1]
    a = np.asarray(x_axis, float) - y * np.dot(x_axis, y)
    if np.linalg.norm(a) < 0.2:   # the wanted axis runs almost along the bone: any roll is as good
        return 0.0
    return float(np.arctan2(np.dot(np.cross(rest[:, 0], a), y), np.dot(rest[:, 0], a)))


def _rolled(specs: tuple[BoneSpec, ...], x_axis) -> tuple[BoneSpec, ...]:
    """`specs` with each roll set so the bone's X follows `x_axis(spec)` (None keeps the roll)."""
    out = []
    for b in specs:
        x = x_axis(b)
        out.append(b if x is None else replace(b, roll=_roll_for_x(b.head, b.tail, x)))
    return tuple(out)


def _turn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking unit vector `a` onto unit vector `b` (half a turn about X when opposite)."""
    axis, c = np.cross(a, b), float(np.dot(a, b))
    if np.linalg.norm(axis) < 1e-9:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    return _axis_angle(axis, np.arccos(np.clip(c, -1.0, 1.0)))


def _cc() -> RigPreset:
    """Character Creator / iClone (CC_Base_*) as its FBX reaches Blender: centimetres, object scale 0.01,
    A-pose (arms 45 degrees down), CC_Base_BoneRoot > Hip > Pelvis (legs) and Hip > Waist (spine), two neck
    twist bones, twist bones on every limb, three-bone fingers, bones rolled per side."""
    pts = _body({"legs": 1.03, "arms": 0.98, "shoulders": 1.1}, arm_down_deg=45.0, fingers=True)
    pts["neck_mid"] = _mid(pts, "neck", "head")
    c = "CC_Base_"
    rows = [(c + "BoneRoot", None, (0.0, 0.0, 0.0), (0.0, 0.0, 0.1)), (c + "Hip", c + "BoneRoot", "pelvis", "spine1"),
            (c + "Pelvis", c + "Hip", "pelvis", pts["pelvis"] - (0, 0, 0.08)),
            (c + "Waist", c + "Hip", "spine1", "spine2"), (c + "Spine01", c + "Waist", "spine2", "spine3"),
            (c + "Spine02", c + "Spine01", "spine3", "neck"), (c + "NeckTwist01", c + "Spine02", "neck", "neck_mid"),
            (c + "NeckTwist02", c + "NeckTwist01", "neck_mid", "head"), (c + "Head", c + "NeckTwist02", "head", "head_top")]
    for s, side in (("L_", ".L"), ("R_", ".R")):
        for a, b, name in (("hip", "knee", "thigh"), ("knee", "ankle", "calf"), ("shoulder", "elbow", "upper"),
                           ("elbow", "wrist", "fore")):
            pts[name + "_mid" + side] = _mid(pts, a + side, b + side)
        rows += [(c + s + "Thigh", c + "Pelvis", "hip" + side, "knee" + side),
                 (c + s + "ThighTwist01", c + s + "Thigh", "thigh_mid" + side, "knee" + side),
                 (c + s + "Calf", c + s + "Thigh", "knee" + side, "ankle" + side),
                 (c + s + "CalfTwist01", c + s + "Calf", "calf_mid" + side, "ankle" + side),
                 (c + s + "Foot", c + s + "Calf", "ankle" + side, "ball" + side),
                 (c + s + "ToeBase", c + s + "Foot", "ball" + side, "toe_end" + side),
                 (c + s + "Clavicle", c + "Spine02", "collar" + side, "shoulder" + side),
                 (c + s + "Upperarm", c + s + "Clavicle", "shoulder" + side, "elbow" + side),
                 (c + s + "UpperarmTwist01", c + s + "Upperarm", "upper_mid" + side, "elbow" + side),
                 (c + s + "Forearm", c + s + "Upperarm", "elbow" + side, "wrist" + side),
                 (c + s + "ForearmTwist01", c + s + "Forearm", "fore_mid" + side, "wrist" + side),
                 (c + s + "Hand", c + s + "Forearm", "wrist" + side, "hand_end" + side)]
        for finger, cc_name in (("Thumb", "Thumb"), ("Index", "Index"), ("Middle", "Mid"), ("Ring", "Ring"),
                                ("Pinky", "Pinky")):
            for i in range(3):
                parent = c + s + "Hand" if i == 0 else f"{c}{s}{cc_name}{i}"
                rows.append((f"{c}{s}{cc_name}{i + 1}", parent, f"{finger}{i}{side}", f"{finger}{i + 1}{side}"))
    cm = np.diag([100.0, 100.0, 100.0, 1.0])

    def x_axis(b: BoneSpec):   # left bones' X toward the back, right bones' toward the front, spine's sideways
        side = 1.0 if "_L_" in b.name else -1.0 if "_R_" in b.name else 0.0
        return (0.0, side, 0.0) if side else (1.0, 0.0, 0.0)

    return RigPreset("cc", _rolled(_bones(pts, rows, transform=cm), x_axis), object_scale=0.01, units_per_metre=100.0)


def _vroid() -> RigPreset:
    """VRoid Studio's VRM as Blender's importers bring it: metres, T-pose, Root > J_Bip_C_Hips, UpperChest,
    three-bone fingers (Little for the pinky), J_Sec_/J_Adj_ helper bones; each bone points at its child and
    keeps the glTF node's Y-up frame (converted to Z up) turned as little as possible onto the bone."""
    pts = _body({"all": 0.9, "legs": 1.05, "arms": 0.95, "spine": 0.95}, fingers=True)
    pts["upper_chest"] = _mid(pts, "spine3", "neck", 0.4)
    j, up = "J_Bip_", np.array([0.0, 0.0, 1.0])   # glTF +Y is Blender's +Z
    rows = [("Root", None, (0.0, 0.0, 0.0), (0.0, 0.0, 0.1)), (j + "C_Hips", "Root", "pelvis", "spine1"),
            (j + "C_Spine", j + "C_Hips", "spine1", "spine2"), (j + "C_Chest", j + "C_Spine", "spine2", "spine3"),
            (j + "C_UpperChest", j + "C_Chest", "spine3", "upper_chest"),
            (j + "C_Neck", j + "C_UpperChest", "neck", "head"), (j + "C_Head", j + "C_Neck", "head", "head_top"),
            ("J_Sec_Hair1_01", j + "C_Head", "head_top", pts["head_top"] + (0, 0.08, -0.1)),
            ("J_Adj_L_FaceEye", j + "C_Head", pts["head"] + (0.03, -0.08, 0.06), pts["head"] + (0.03, -0.1, 0.06))]
    for s, side in (("L_", ".L"), ("R_", ".R")):
        rows += [(j + s + "UpperLeg", j + "C_Hips", "hip" + side, "knee" + side),
                 (j + s + "LowerLeg", j + s + "UpperLeg", "knee" + side, "ankle" + side),
                 (j + s + "Foot", j + s + "LowerLeg", "ankle" + side, "ball" + side),
                 (j + s + "ToeBase", j + s + "Foot", "ball" + side, "toe_end" + side),
                 ("J_Sec_" + s + "Bust1", j + "C_UpperChest", pts["spine3"] + (0.09 * (1 if s == "L_" else -1), -0.08, 0),
                  pts["spine3"] + (0.09 * (1 if s == "L_" else -1), -0.14, 0)),
                 (j + s + "Shoulder", j + "C_UpperChest", "collar" + side, "shoulder" + side),
                 (j + s + "UpperArm", j + s + "Shoulder", "shoulder" + side, "elbow" + side),
                 (j + s + "LowerArm", j + s + "UpperArm", "elbow" + side, "wrist" + side),
                 (j + s + "Hand", j + s + "LowerArm", "wrist" + side, "hand_end" + side)]
        for finger, vrm_name in (("Thumb", "Thumb"), ("Index", "Index"), ("Middle", "Middle"), ("Ring", "Ring"),
                                 ("Pinky", "Little")):
            for i in range(3):
                parent = j + s + "Hand" if i == 0 else f"{j}{s}{vrm_name}{i}"
                rows.append((f"{j}{s}{vrm_name}{i + 1}", parent, f"{finger}{i}{side}", f"{finger}{i + 1}{side}"))

    def x_axis(b: BoneSpec):   # the node frame (X, Y=up) turned by the least rotation that lays Y on the bone
        d = np.subtract(b.tail, b.head)
        return _turn(up, d / np.linalg.norm(d)) @ (1.0, 0.0, 0.0)

    return RigPreset("vroid", _rolled(_bones(pts, rows), x_axis))


def _manny() -> RigPreset:
    """UE5 Manny's skeleton as Blender's FBX importer shows it without automatic bone orientation:
    centimetres, object scale 0.01, facing +Y, root > pelvis, spine_01..05, neck_01/02, metacarpals, twist
    and IK bones; each joint's X runs along the limb (toward the child on the left and the centre, toward the
    parent on the right, as UE mirrors), so the Blender bones (their Y) stick out across the limbs."""
    pts = _body({"arms": 1.02, "legs": 1.04, "hips": 0.95}, fingers=True)
    for i, f in enumerate((0.0, 0.2, 0.4, 0.6, 0.8)):
        pts[f"s{i + 1}"] = _mid(pts, "spine1", "spine3", f / 0.8)
    pts["neck2"] = _mid(pts, "neck", "head")
    limbs = {}   # bone -> point its X runs toward

    def row(name, parent, head, toward, twist_of=None):
        limbs[name] = (head, toward, twist_of)
        return name, parent, head, toward

    rows = [("root", None, (0.0, 0.0, 0.0), (0.0, 0.0, 0.1)), row("pelvis", "root", "pelvis", "s1"),
            row("spine_01", "pelvis", "s1", "s2"), row("spine_02", "spine_01", "s2", "s3"),
            row("spine_03", "spine_02", "s3", "s4"), row("spine_04", "spine_03", "s4", "s5"),
            row("spine_05", "spine_04", "s5", "neck"), row("neck_01", "spine_05", "neck", "neck2"),
            row("neck_02", "neck_01", "neck2", "head"), row("head", "neck_02", "head", "head_top"),
            ("ik_foot_root", "root", (0.0, 0.0, 0.0), (0.0, 0.0, 0.1)),
            ("ik_hand_root", "root", (0.0, 0.0, 0.0), (0.0, 0.0, 0.1)),
            ("ik_hand_gun", "ik_hand_root", "wrist.R", "hand_end.R")]
    for side, s in ((".L", "_l"), (".R", "_r")):
        for a, b, name in (("hip", "knee", "thigh"), ("knee", "ankle", "calf"), ("shoulder", "elbow", "upper"),
                           ("elbow", "wrist", "lower")):
            pts[name + "_mid" + side] = _mid(pts, a + side, b + side)
        rows += [row("clavicle" + s, "spine_05", "collar" + side, "shoulder" + side),
                 row("upperarm" + s, "clavicle" + s, "shoulder" + side, "elbow" + side),
                 row("upperarm_twist_01" + s, "upperarm" + s, "upper_mid" + side, "elbow" + side),
                 row("lowerarm" + s, "upperarm" + s, "elbow" + side, "wrist" + side),
                 row("lowerarm_twist_01" + s, "lowerarm" + s, "lower_mid" + side, "wrist" + side),
                 row("hand" + s, "lowerarm" + s, "wrist" + side, "hand_end" + side),
                 row("thigh" + s, "pelvis", "hip" + side, "knee" + side),
                 row("thigh_twist_01" + s, "thigh" + s, "thigh_mid" + side, "knee" + side),
                 row("calf" + s, "thigh" + s, "knee" + side, "ankle" + side),
                 row("calf_twist_01" + s, "calf" + s, "calf_mid" + side, "ankle" + side),
                 row("foot" + s, "calf" + s, "ankle" + side, "ball" + side),
                 row("ball" + s, "foot" + s, "ball" + side, "toe_end" + side),
                 ("ik_foot" + s, "ik_foot_root", "ankle" + side, "ball" + side),
                 ("ik_hand" + s, "ik_hand_gun" if s == "_l" else "ik_hand_root", "wrist" + side, "hand_end" + side)]
        for finger in _FINGERS:
            f = finger.lower()
            if f != "thumb":
                rows.append(row(f"{f}_metacarpal{s}", "hand" + s, "wrist" + side, f"{finger}0{side}"))
            for i in range(3):
                parent = (("hand" + s) if f == "thumb" else f"{f}_metacarpal{s}") if i == 0 else f"{f}_0{i}{s}"
                rows.append(row(f"{f}_0{i + 1}{s}", parent, f"{finger}{i}{side}", f"{finger}{i + 1}{side}"))
    # Each joint's frame: X along the limb (mirrored on the right), Y across it toward the character's front
    # (+Y; up for limbs that point forward); the Blender bone lies along that Y, a third of the limb long.
    front = np.array([0.0, 1.0, 0.0])
    turn = np.diag([-1.0, -1.0, 1.0])   # the template faces -Y; Manny faces +Y
    across = []
    for name, parent, head, toward in rows:
        h = turn @ (pts[head] if isinstance(head, str) else np.asarray(head, float))
        if name not in limbs:
            t = turn @ (pts[toward] if isinstance(toward, str) else np.asarray(toward, float))
            across.append((name, parent, h, t))
            continue
        limb = turn @ pts[toward] - h
        length = np.linalg.norm(limb)
        limb = limb / length
        y = front - limb * np.dot(front, limb)
        y = y / np.linalg.norm(y) if np.linalg.norm(y) > 1e-6 else np.array([0.0, 0.0, 1.0])
        across.append((name, parent, h, h + y * max(length / 3.0, 0.01)))
    x_axes = {}
    for name, _, h, _ in across:
        if name in limbs:
            d = turn @ pts[limbs[name][1]] - h
            x_axes[name] = (-d if name.endswith("_r") else d) / np.linalg.norm(d)
    cm = np.diag([100.0, 100.0, 100.0, 1.0])
    specs = _bones({}, across, transform=cm)
    return RigPreset("manny", _rolled(specs, lambda b: x_axes.get(b.name)), object_scale=0.01,
                     forward=(0.0, 1.0, 0.0), units_per_metre=100.0)


def _auto_rig_pro() -> RigPreset:
    """Auto-Rig Pro's deform skeleton as its FBX export carries it: c_traj > root.x (the hips), spine_01..03.x,
    neck.x, head.x; each upper limb a twist bone from the joint to mid-limb then the stretch bone to the next
    joint (thigh_twist.l > thigh_stretch.l), each lower limb the stretch bone first (leg_stretch.l >
    leg_twist.l > foot.l > toes_01.l), fingers thumb1..3.l, index1..3.l under *_base.l metacarpals."""
    pts = _body({"legs": 0.97, "arms": 1.04, "spine": 1.02}, fingers=True)
    rows = [("c_traj", None, (0.0, 0.0, 0.0), (0.0, -0.2, 0.0)), ("root.x", "c_traj", "pelvis", "spine1"),
            ("spine_01.x", "root.x", "spine1", "spine2"), ("spine_02.x", "spine_01.x", "spine2", "spine3"),
            ("spine_03.x", "spine_02.x", "spine3", "neck"), ("neck.x", "spine_03.x", "neck", "head"),
            ("head.x", "neck.x", "head", "head_top")]
    for side, s in ((".L", ".l"), (".R", ".r")):
        for a, b, name in (("hip", "knee", "thigh"), ("knee", "ankle", "leg"), ("shoulder", "elbow", "arm"),
                           ("elbow", "wrist", "forearm")):
            pts[name + "_mid" + side] = _mid(pts, a + side, b + side)
        rows += [("thigh_twist" + s, "root.x", "hip" + side, "thigh_mid" + side),
                 ("thigh_stretch" + s, "thigh_twist" + s, "thigh_mid" + side, "knee" + side),
                 ("leg_stretch" + s, "thigh_stretch" + s, "knee" + side, "leg_mid" + side),
                 ("leg_twist" + s, "leg_stretch" + s, "leg_mid" + side, "ankle" + side),
                 ("foot" + s, "leg_twist" + s, "ankle" + side, "ball" + side),
                 ("toes_01" + s, "foot" + s, "ball" + side, "toe_end" + side),
                 ("shoulder" + s, "spine_03.x", "collar" + side, "shoulder" + side),
                 ("arm_twist" + s, "shoulder" + s, "shoulder" + side, "arm_mid" + side),
                 ("arm_stretch" + s, "arm_twist" + s, "arm_mid" + side, "elbow" + side),
                 ("forearm_stretch" + s, "arm_stretch" + s, "elbow" + side, "forearm_mid" + side),
                 ("forearm_twist" + s, "forearm_stretch" + s, "forearm_mid" + side, "wrist" + side),
                 ("hand" + s, "forearm_twist" + s, "wrist" + side, "hand_end" + side)]
        for finger in _FINGERS:
            f = finger.lower()
            if f != "thumb":
                rows.append((f"{f}1_base{s}", "hand" + s, "wrist" + side, f"{finger}0{side}"))
            for i in range(3):
                parent = (("hand" + s) if f == "thumb" else f"{f}1_base{s}") if i == 0 else f"{f}{i}{s}"
                rows.append((f"{f}{i + 1}{s}", parent, f"{finger}{i}{side}", f"{finger}{i + 1}{side}"))
    return RigPreset("auto_rig_pro", _bones(pts, rows))


PRESET_BUILDERS = {"mixamo": _mixamo, "rigify": _rigify, "smpl": _smpl, "apose": _apose, "unreal": _unreal,
                   "cc": _cc, "vroid": _vroid, "manny": _manny, "auto_rig_pro": _auto_rig_pro}
PRESET_NAMES: tuple[str, ...] = tuple(PRESET_BUILDERS)


def rig_preset(name: str) -> RigPreset:
    """The preset `name` (one of PRESET_NAMES)."""
    if name not in PRESET_BUILDERS:
        raise ValueError(f"unknown rig preset {name!r}; choose one of {', '.join(PRESET_NAMES)}")
    return PRESET_BUILDERS[name]()


def preset_rig(name: str) -> Rig:
    """The preset's rest pose as a `Rig`, computed the way Blender computes bone.matrix_local."""
    preset = rig_preset(name)
    names = [b.name for b in preset.bones]
    return Rig(
        names=names,
        parents=[names.index(b.parent) if b.parent else -1 for b in preset.bones],
        rest_matrices=np.stack([bone_matrix(np.array(b.head), np.array(b.tail), b.roll) for b in preset.bones]),
        tails=np.array([b.tail for b in preset.bones]),
        name=name,
    )
