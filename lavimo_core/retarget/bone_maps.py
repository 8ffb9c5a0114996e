"""Which rig bone plays which canonical joint: naming presets, automatic detection, user overrides, a report.

A canonical joint maps to the bone whose head sits at that joint (e.g. `left_knee` -> Mixamo `LeftLeg`).
Names are compared after `normalize_bone_name` (lower case, FBX/Mixamo namespaces and SMPL's
`m_avg_`/`f_avg_` prefixes removed), so `mixamorig:LeftLeg`, `mixamorig12:LeftLeg` and `LeftLeg` all match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..motion.skeleton import JOINT_INDEX, JOINT_NAMES
from .errors import BoneMapError
from .rig import Rig

# Without these the body cannot be posed; at least one torso joint is needed too.
REQUIRED_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
)
TORSO_JOINTS: tuple[str, ...] = ("spine1", "spine2", "spine3", "neck", "head")
ROOT_KEY = "root"  # override key for a separate root bone above the pelvis

# Joints beyond the canonical 22 that a full-body transfer drives when both skeletons have them: three
# segments per finger and side. Each hangs from the joint before it (segment 1 from the wrist).
FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
EXTRA_JOINTS: tuple[str, ...] = tuple(f"{side}_{finger}{i}" for side in ("left", "right") for finger in FINGERS
                                      for i in (1, 2, 3))
ALL_JOINTS: tuple[str, ...] = JOINT_NAMES + EXTRA_JOINTS


def extra_parent(joint: str) -> str:
    """The joint an extra (finger) joint hangs from: the previous segment, or the wrist for segment 1."""
    side, _, rest = joint.partition("_")
    return f"{side}_wrist" if rest.endswith("1") else f"{side}_{rest[:-1]}{int(rest[-1]) - 1}"


def _sided(table: dict[str, str], left: str, right: str) -> dict[str, tuple[str, ...]]:
    """Expand `side_x: pattern{s}` entries into left_x/right_x with the preset's side tokens."""
    out: dict[str, tuple[str, ...]] = {}
    for joint, names in table.items():
        names = (names,) if isinstance(names, str) else tuple(names)
        if joint.startswith("side_"):
            out["left_" + joint[5:]] = tuple(n.format(s=left) for n in names)
            out["right_" + joint[5:]] = tuple(n.format(s=right) for n in names)
        else:
            out[joint] = names
    return out


def _fingers(pattern: str, names: dict[str, str] | None = None, start: int = 1) -> dict[str, str]:
    """side_<finger><i> entries from `pattern` with {f} (finger name), {i} (segment number) and {s} (side)."""
    names = names or {}
    return {f"side_{f}{i}": pattern.replace("{f}", names.get(f, f)).replace("{i}", str(i + start - 1))
            for f in FINGERS for i in (1, 2, 3)}


def _mixamo_like(spine: tuple[str, str, str]) -> dict[str, tuple[str, ...]]:
    return _sided({**_fingers("{s}hand{f}{i}"),
        "pelvis": "hips", "spine1": spine[0], "spine2": spine[1], "spine3": spine[2], "neck": "neck",
        "head": "head", "side_hip": "{s}upleg", "side_knee": "{s}leg", "side_ankle": "{s}foot",
        "side_foot": "{s}toebase", "side_collar": "{s}shoulder", "side_shoulder": "{s}arm",
        "side_elbow": "{s}forearm", "side_wrist": "{s}hand",
    }, "left", "right")


def _rigify(prefix: str) -> dict[str, tuple[str, ...]]:
    table = {**_fingers("f_{f}.0{i}.{s}"),
        "pelvis": "spine", "spine1": "spine.001", "spine2": "spine.002", "spine3": "spine.003",
        "neck": "spine.004", "head": "spine.006", "side_hip": "thigh.{s}", "side_knee": "shin.{s}",
        "side_ankle": "foot.{s}", "side_foot": "toe.{s}", "side_collar": "shoulder.{s}",
        "side_shoulder": "upper_arm.{s}", "side_elbow": "forearm.{s}", "side_wrist": "hand.{s}",
    }
    table = {k: v.replace("f_thumb", "thumb") for k, v in table.items()}
    return _sided({k: prefix + v for k, v in table.items()}, "l", "r")


def _unreal(spine2: str, spine3: str) -> dict[str, tuple[str, ...]]:
    return _sided({**_fingers("{f}_0{i}_{s}"),
        "pelvis": "pelvis", "spine1": "spine_01", "spine2": spine2, "spine3": spine3, "neck": "neck_01",
        "head": "head", "side_hip": "thigh_{s}", "side_knee": "calf_{s}", "side_ankle": "foot_{s}",
        "side_foot": "ball_{s}", "side_collar": "clavicle_{s}", "side_shoulder": "upperarm_{s}",
        "side_elbow": "lowerarm_{s}", "side_wrist": "hand_{s}",
    }, "l", "r")


def _smpl(left: str, right: str) -> dict[str, tuple[str, ...]]:
    return _sided({**_fingers("{s}_{f}{i}"),
        "pelvis": "pelvis", "spine1": "spine1", "spine2": "spine2", "spine3": "spine3", "neck": "neck",
        "head": "head", "side_hip": "{s}_hip", "side_knee": "{s}_knee", "side_ankle": "{s}_ankle",
        "side_foot": "{s}_foot", "side_collar": "{s}_collar", "side_shoulder": "{s}_shoulder",
        "side_elbow": "{s}_elbow", "side_wrist": "{s}_wrist",
    }, left, right)


# Canonical joint -> candidate bone names (normalised). Order breaks ties: a UE5 rig also matches
# every UE4 name, so UE5 comes first; Mixamo before CMU for the same reason.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "mixamo": _mixamo_like(("spine", "spine1", "spine2")),
    "cmu": _mixamo_like(("lowerback", "spine", "spine1")),
    "rigify_def": _rigify("def-"),
    "rigify_org": _rigify("org-"),
    "rigify_metarig": _rigify(""),
    "unreal5": _unreal("spine_03", "spine_05"),
    "unreal4": _unreal("spine_02", "spine_03"),
    "smplx": _smpl("left", "right"),
    "smpl": _smpl("l", "r"),
    "bandai_bvh": _sided({
        "pelvis": "hips", "spine1": "spine", "spine3": "chest", "neck": "neck", "head": "head",
        "side_hip": "upperleg_{s}", "side_knee": "lowerleg_{s}", "side_ankle": "foot_{s}",
        "side_foot": "toes_{s}", "side_collar": "shoulder_{s}", "side_shoulder": "upperarm_{s}",
        "side_elbow": "lowerarm_{s}", "side_wrist": "hand_{s}",
    }, "l", "r"),
    # cgspeed's Daz-friendly CMU release (hip, abdomen, chest, lCollar, lShldr, lThumb1, lMid1, ...).
    "daz": _sided({
        **_fingers("{s}{f}{i}", {"middle": "mid"}), "pelvis": "hip", "spine1": "abdomen", "spine3": "chest",
        "neck": "neck", "head": "head", "side_hip": "{s}thigh", "side_knee": "{s}shin", "side_ankle": "{s}foot",
        "side_foot": "{s}toe", "side_collar": "{s}collar", "side_shoulder": "{s}shldr",
        "side_elbow": "{s}forearm", "side_wrist": "{s}hand",
    }, "l", "r"),
    # Character Creator / iClone (CC3/CC4 exports).
    "cc_base": _sided({
        **_fingers("cc_base_{s}_{f}{i}", {"middle": "mid"}), "pelvis": "cc_base_hip", "spine1": "cc_base_waist",
        "spine2": "cc_base_spine01", "spine3": "cc_base_spine02", "neck": "cc_base_necktwist01",
        "head": "cc_base_head", "side_hip": "cc_base_{s}_thigh", "side_knee": "cc_base_{s}_calf",
        "side_ankle": "cc_base_{s}_foot", "side_foot": "cc_base_{s}_toebase", "side_collar": "cc_base_{s}_clavicle",
        "side_shoulder": "cc_base_{s}_upperarm", "side_elbow": "cc_base_{s}_forearm", "side_wrist": "cc_base_{s}_hand",
    }, "l", "r"),
    # VRM / VRoid Studio.
    "vrm": _sided({
        **_fingers("j_bip_{s}_{f}{i}", {"pinky": "little"}), "pelvis": "j_bip_c_hips", "spine1": "j_bip_c_spine",
        "spine2": "j_bip_c_chest", "spine3": "j_bip_c_upperchest", "neck": "j_bip_c_neck", "head": "j_bip_c_head",
        "side_hip": "j_bip_{s}_upperleg", "side_knee": "j_bip_{s}_lowerleg", "side_ankle": "j_bip_{s}_foot",
        "side_foot": "j_bip_{s}_toebase", "side_collar": "j_bip_{s}_shoulder", "side_shoulder": "j_bip_{s}_upperarm",
        "side_elbow": "j_bip_{s}_lowerarm", "side_wrist": "j_bip_{s}_hand",
    }, "l", "r"),
    # Auto-Rig Pro's deform bones as its export carries them (".x" centre, ".l"/".r" sides; root.x is the hips).
    # An upper limb is a twist bone from the joint to mid-limb, then the stretch bone (thigh_twist.l >
    # thigh_stretch.l), so the twist bone is the one at the hip/shoulder; without twist bones the stretch bone is.
    # A lower limb starts with its stretch bone at the knee/elbow (leg_stretch.l > leg_twist.l > foot.l).
    "auto_rig_pro": _sided({
        **_fingers("{f}{i}.{s}"), "pelvis": "root.x", "spine1": "spine_01.x", "spine2": "spine_02.x",
        "spine3": "spine_03.x", "neck": "neck.x", "head": "head.x",
        "side_hip": ("thigh_twist.{s}", "thigh_stretch.{s}"), "side_knee": "leg_stretch.{s}",
        "side_ankle": "foot.{s}", "side_foot": "toes_01.{s}", "side_collar": "shoulder.{s}",
        "side_shoulder": ("arm_twist.{s}", "arm_stretch.{s}"), "side_elbow": "forearm_stretch.{s}",
        "side_wrist": "hand.{s}",
    }, "l", "r"),
}

_NAMESPACE = re.compile(r"^.*[:|]")            # FBX namespaces: "mixamorig:Hips", "Armature|Hips"
_PREFIXES = re.compile(r"^(mixamorig\d*_|[mf]_avg_)")


def normalize_bone_name(name: str) -> str:
    """The form bone names are compared in: lower case, without namespaces or known rig prefixes."""
    return _PREFIXES.sub("", _NAMESPACE.sub("", name.strip())).lower()


@dataclass(frozen=True)
class BoneMapReport:
    """What was mapped and what was not, for the user."""

    preset: str
    mapped: dict[str, str]              # canonical joint -> bone
    unmapped_joints: list[str]          # canonical joints without a bone (they are skipped)
    unmapped_bones: list[str]           # rig bones left untouched (fingers, twist, helpers, ...)
    root: str | None = None             # separate root bone, keyed with the trajectory and heading
    extras: dict[str, str] = field(default_factory=dict)   # finger joint -> bone (full-body transfer)

    def summary(self) -> str:
        """A few lines for a UI report or a log."""
        lines = [f"bone map: {self.preset}, {len(self.mapped)}/{len(JOINT_NAMES)} joints mapped"
                 + (f", root bone {self.root!r}" if self.root else "")
                 + (f", {len(self.extras)} finger bones" if self.extras else "")]
        if self.unmapped_joints:
            lines.append("unmapped joints: " + ", ".join(self.unmapped_joints))
        if self.unmapped_bones:
            lines.append(f"untouched bones ({len(self.unmapped_bones)}): " + ", ".join(self.unmapped_bones[:12])
                         + (" ..." if len(self.unmapped_bones) > 12 else ""))
        return "\n".join(lines)


@dataclass(frozen=True)
class BoneMap:
    """Canonical joint -> rig bone, and the separate root bone (if the rig has one)."""

    joints: dict[str, str]
    root: str | None = None
    preset: str = "custom"
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, str] = field(default_factory=dict)   # finger joint (EXTRA_JOINTS) -> bone

    def bone(self, joint: str) -> str | None:
        """The bone mapped to canonical `joint`, or None."""
        return self.joints.get(joint)

    def missing_required(self) -> list[str]:
        """Required canonical joints without a bone (a torso joint counts when none is mapped)."""
        missing = [j for j in REQUIRED_JOINTS if j not in self.joints]
        if not any(j in self.joints for j in TORSO_JOINTS):
            missing.append("spine1 (or spine2, spine3, neck, head)")
        return missing

    def validate(self, rig: Rig) -> None:
        """Raise BoneMapError unless every required joint has a distinct bone of `rig`."""
        unknown = {j: b for j, b in self.joints.items() if b not in rig.names}
        if self.root is not None and self.root not in rig.names:
            unknown[ROOT_KEY] = self.root
        if unknown:
            raise BoneMapError(f"armature {rig.name!r} has no bone(s) " + ", ".join(
                f"{b!r} (for {j})" for j, b in unknown.items()) + "; check the bone-map overrides.")
        seen: dict[str, str] = {}
        for joint, bone in self.joints.items():
            if bone in seen:
                raise BoneMapError(f"armature {rig.name!r}: bone {bone!r} is mapped to both {seen[bone]} and "
                                   f"{joint}; map each canonical joint to its own bone.")
            seen[bone] = joint
        missing = self.missing_required()
        if missing:
            raise BoneMapError(
                f"armature {rig.name!r}: too few bones could be matched to the body "
                f"({len(self.joints)}/{len(JOINT_NAMES)} joints, best naming guess: {self.preset}). "
                f"Missing canonical joints: {', '.join(missing)}. Use a supported naming (Mixamo, Rigify, "
                f"Unreal UE4/UE5, SMPL/SMPL-X, Bandai-Namco/BVH, CMU) or map these joints to your bones with "
                f"bone-map overrides, e.g. {{'{missing[0].split()[0]}': 'YourBoneName'}}.")

    def report(self, rig: Rig) -> BoneMapReport:
        """Mapped and unmapped joints and bones of `rig`."""
        used = set(self.joints.values()) | set(self.extras.values()) | ({self.root} if self.root else set())
        return BoneMapReport(
            preset=self.preset,
            mapped={j: self.joints[j] for j in JOINT_NAMES if j in self.joints},
            unmapped_joints=[j for j in JOINT_NAMES if j not in self.joints],
            unmapped_bones=[b for b in rig.names if b not in used],
            root=self.root,
            extras={j: self.extras[j] for j in EXTRA_JOINTS if j in self.extras},
        )


def _match(preset: dict[str, tuple[str, ...]], by_norm: dict[str, str]) -> dict[str, str]:
    found = {}
    for joint, candidates in preset.items():
        for cand in candidates:
            if cand in by_norm:
                found[joint] = by_norm[cand]
                break
    return found


def preset_bone_map(rig: Rig, preset: str) -> BoneMap:
    """The bone map of naming `preset` (a key of PRESETS) on `rig`, validated (e.g. a generated Rigify rig's
    ORG bones, which tie with its DEF bones in automatic detection)."""
    by_norm = {normalize_bone_name(n): n for n in reversed(rig.names)}
    found = _match(PRESETS[preset], by_norm)
    bone_map = BoneMap(joints={j: b for j, b in found.items() if j in JOINT_INDEX}, preset=preset,
                       extras={j: b for j, b in found.items() if j not in JOINT_INDEX})
    bone_map.validate(rig)
    return bone_map


def detect_bone_map(rig: Rig, overrides: Mapping[str, str | None] | None = None, *, strict: bool = True) -> BoneMap:
    """Guess the bone map from bone names (best preset), apply `overrides`, and validate when `strict`.

    `overrides` maps canonical joint names (or "root") to bone names, or to None to leave a joint unmapped.
    """
    by_norm: dict[str, str] = {}
    for name in rig.names:
        by_norm.setdefault(normalize_bone_name(name), name)
    preset, joints, extras = "none", {}, {}
    for name, table in PRESETS.items():
        found = _match(table, by_norm)
        canonical = {j: b for j, b in found.items() if j in JOINT_INDEX}
        if len(canonical) > len(joints):
            preset, joints = name, canonical
            extras = {j: b for j, b in found.items() if j not in JOINT_INDEX}

    root: str | None = None
    overrides = dict(overrides or {})
    bad = [k for k in overrides if k not in ALL_JOINTS and k != ROOT_KEY]
    if bad:
        raise BoneMapError(f"unknown canonical joint(s) in bone-map overrides: {', '.join(map(repr, bad))}; "
                           f"use one of {', '.join(JOINT_NAMES)}, a finger joint such as 'left_index1', "
                           f"or {ROOT_KEY!r}.")
    if overrides:
        preset = f"{preset}+overrides" if joints else "custom"
    for joint, bone in overrides.items():
        if joint == ROOT_KEY:
            continue
        table = joints if joint in JOINT_INDEX else extras
        if bone is None:
            table.pop(joint, None)
        else:
            table[joint] = bone

    if ROOT_KEY in overrides:
        root = overrides[ROOT_KEY]
    elif joints.get("pelvis") in rig.names:
        # A bone above the pelvis (UE "root", BVH "joint_Root") carries the ground trajectory and heading.
        ancestors = rig.ancestors(rig.index(joints["pelvis"]))
        root = rig.names[ancestors[-1]] if ancestors else None
    if root is not None and root in joints.values():
        root = None

    used = set(joints.values())
    extras = {j: b for j, b in extras.items() if b not in used and b in rig.names}
    bone_map = BoneMap(joints=joints, root=root, preset=preset, extras=extras)
    if strict:
        bone_map.validate(rig)
    return bone_map
