"""Map a source skeleton (Bandai-Namco, CMU cgspeed/Daz, Mixamo, SMPL/SMPL-X/AMASS, Character Creator, VRM,
Unreal, Auto-Rig Pro) onto the 22 canonical joints."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import LavimoError
from .skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS

# Where HumanML3D's reference skeleton puts spine1/2/3 along the pelvis -> neck polyline, as fractions of
# its arc length (measured on humanml3d-sample/new_joints: bone lengths .1316 .1432 .0574 .2194 m).
SPINE_FRACTIONS = (0.239, 0.498, 0.602)

# Name patterns per convention, compared case-insensitively after `normalize_name`. "{l}" stands for l/r,
# "{left}" for left/right. The first pattern found wins. Spine joints between pelvis and neck come from the
# hierarchy; `spine` lists names used one-to-one when a skeleton has exactly those three (else: interpolation).
_CONVENTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "smpl": {
        "pelvis": ("pelvis",), "neck": ("neck",), "head": ("head",),
        "spine": ("spine1", "spine2", "spine3"),
        "hip": ("{l}_hip", "{left}_hip"), "knee": ("{l}_knee", "{left}_knee"),
        "ankle": ("{l}_ankle", "{left}_ankle"), "foot": ("{l}_foot", "{left}_foot"),
        "collar": ("{l}_collar", "{left}_collar"), "shoulder": ("{l}_shoulder", "{left}_shoulder"),
        "elbow": ("{l}_elbow", "{left}_elbow"), "wrist": ("{l}_wrist", "{left}_wrist"),
    },
    "bandai-namco": {
        "pelvis": ("hips",), "neck": ("neck",), "head": ("head",), "spine": (),
        "hip": ("upperleg_{l}",), "knee": ("lowerleg_{l}",), "ankle": ("foot_{l}",), "foot": ("toes_{l}",),
        "collar": ("shoulder_{l}",), "shoulder": ("upperarm_{l}",), "elbow": ("lowerarm_{l}",),
        "wrist": ("hand_{l}",),
    },
    # Mixamo and CMU (cgspeed) share limb names; CMU adds LowerBack/LHipJoint and puts LowerBack and Neck
    # at zero offset, so its spine is interpolated while Mixamo's Spine/Spine1/Spine2 map one-to-one.
    "mixamo": {
        "pelvis": ("hips",), "neck": ("neck",), "head": ("head",), "spine": ("spine", "spine1", "spine2"),
        "hip": ("{left}upleg",), "knee": ("{left}leg",), "ankle": ("{left}foot",),
        "foot": ("{left}toebase", "{left}toe_base", "{left}toe", "@end"),
        "collar": ("{left}shoulder",), "shoulder": ("{left}arm",), "elbow": ("{left}forearm",),
        "wrist": ("{left}hand",),
    },
    "cmu": {
        "pelvis": ("hips",), "neck": ("neck",), "head": ("head",), "spine": (),
        "hip": ("{left}upleg",), "knee": ("{left}leg",), "ankle": ("{left}foot",),
        "foot": ("{left}toebase", "@end"),
        "collar": ("{left}shoulder",), "shoulder": ("{left}arm",), "elbow": ("{left}forearm",),
        "wrist": ("{left}hand",),
    },
    # Daz/Poser (cgspeed's Daz-friendly CMU release: hip, abdomen, chest, lCollar, lShldr, lThigh, lShin,
    # lFoot without toes) and Genesis (abdomenLower..chestUpper, neckLower, lShldrBend, lThighBend, lToe).
    "daz": {
        "pelvis": ("hip", "hips"), "neck": ("neck", "necklower"), "head": ("head",), "spine": (),
        "hip": ("{l}thigh", "{l}thighbend"), "knee": ("{l}shin",), "ankle": ("{l}foot",),
        "foot": ("{l}toe", "{l}metatarsals", "@end"),
        "collar": ("{l}collar",), "shoulder": ("{l}shldr", "{l}shldrbend"),
        "elbow": ("{l}forearm", "{l}forearmbend"), "wrist": ("{l}hand",),
    },
    # Character Creator / iClone (CC_Base_*): Hip > Waist > Spine01 > Spine02 > NeckTwist01; legs under Pelvis.
    "character-creator": {
        "pelvis": ("cc_base_hip",), "neck": ("cc_base_necktwist01",), "head": ("cc_base_head",),
        "spine": ("cc_base_waist", "cc_base_spine01", "cc_base_spine02"),
        "hip": ("cc_base_{l}_thigh",), "knee": ("cc_base_{l}_calf",), "ankle": ("cc_base_{l}_foot",),
        "foot": ("cc_base_{l}_toebase", "@end"), "collar": ("cc_base_{l}_clavicle",),
        "shoulder": ("cc_base_{l}_upperarm",), "elbow": ("cc_base_{l}_forearm",), "wrist": ("cc_base_{l}_hand",),
    },
    # VRM / VRoid Studio (J_Bip_C_Hips > Spine > Chest > UpperChest > Neck).
    "vrm": {
        "pelvis": ("j_bip_c_hips",), "neck": ("j_bip_c_neck",), "head": ("j_bip_c_head",),
        "spine": ("j_bip_c_spine", "j_bip_c_chest", "j_bip_c_upperchest"),
        "hip": ("j_bip_{l}_upperleg",), "knee": ("j_bip_{l}_lowerleg",), "ankle": ("j_bip_{l}_foot",),
        "foot": ("j_bip_{l}_toebase", "@end"), "collar": ("j_bip_{l}_shoulder",),
        "shoulder": ("j_bip_{l}_upperarm",), "elbow": ("j_bip_{l}_lowerarm",), "wrist": ("j_bip_{l}_hand",),
    },
    # Unreal mannequins (UE4 spine_01..03 one-to-one; UE5's spine_01..05 interpolated).
    "unreal": {
        "pelvis": ("pelvis",), "neck": ("neck_01",), "head": ("head",), "spine": ("spine_01", "spine_02", "spine_03"),
        "hip": ("thigh_{l}",), "knee": ("calf_{l}",), "ankle": ("foot_{l}",), "foot": ("ball_{l}", "@end"),
        "collar": ("clavicle_{l}",), "shoulder": ("upperarm_{l}",), "elbow": ("lowerarm_{l}",),
        "wrist": ("hand_{l}",),
    },
    # Auto-Rig Pro's exported deform bones: the twist bone sits at the hip/shoulder (its stretch bone starts
    # mid-limb), the stretch bone at the knee/elbow; without twist bones the stretch bone is at the hip/shoulder.
    "auto-rig-pro": {
        "pelvis": ("root.x",), "neck": ("neck.x",), "head": ("head.x",),
        "spine": ("spine_01.x", "spine_02.x", "spine_03.x"),
        "hip": ("thigh_twist.{l}", "thigh_stretch.{l}"), "knee": ("leg_stretch.{l}",), "ankle": ("foot.{l}",),
        "foot": ("toes_01.{l}", "@end"), "collar": ("shoulder.{l}",), "shoulder": ("arm_twist.{l}", "arm_stretch.{l}"),
        "elbow": ("forearm_stretch.{l}",), "wrist": ("hand.{l}",),
    },
}
# A skeleton is recognised as CMU rather than Mixamo by one of these names.
_CMU_MARKERS = ("lowerback", "lhipjoint", "neck1")
_SIDE_JOINTS = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")
_PREFIX = re.compile(r"^(mixamorig\d*[_:]?|[mf]_avg_)")


class SkeletonMapError(LavimoError):
    """A skeleton whose joints cannot be matched to the 22 canonical joints."""


def normalize_name(name: str) -> str:
    """Lower-case joint name without namespaces ("Armature|", "mixamorig1:") or SMPL/Mixamo prefixes."""
    name = re.split(r"[:|]", name.strip())[-1]
    return _PREFIX.sub("", name.lower())


@dataclass(frozen=True)
class SkeletonMap:
    """How to compute the 22 canonical joints from a source skeleton's joint positions."""

    convention: str                        # "bandai-namco", "mixamo", "cmu", "daz", "smpl"
    source: tuple[int, ...]                # source index per canonical joint (-1: spine joint, interpolated)
    spine_chain: tuple[int, ...]           # pelvis, source joints between pelvis and neck, neck
    source_names: tuple[str, ...]

    def to_canonical(self, positions: np.ndarray) -> np.ndarray:
        """Canonical joints (T, 22, 3) from source joint positions (T, J, 3)."""
        src = np.asarray(self.source)
        out = np.empty(positions.shape[:-2] + (NUM_JOINTS, 3), dtype=positions.dtype)
        direct = src >= 0
        out[..., direct, :] = positions[..., src[direct], :]
        if not direct.all():
            spine = [JOINT_INDEX[n] for n in ("spine1", "spine2", "spine3")]
            out[..., spine, :] = interpolate_chain(positions[..., list(self.spine_chain), :], SPINE_FRACTIONS)
        return out

    def mapping(self) -> dict[str, str]:
        """Canonical joint -> source joint name (or "interpolated")."""
        return {c: (self.source_names[s] if s >= 0 else "interpolated") for c, s in zip(JOINT_NAMES, self.source)}


def interpolate_chain(chain: np.ndarray, fractions: tuple[float, ...]) -> np.ndarray:
    """Points at `fractions` of the arc length of each frame's polyline `chain` (T, K, 3) -> (T, len(fractions), 3)."""
    seg = np.diff(chain, axis=-2)                                   # (T, K-1, 3)
    length = np.linalg.norm(seg, axis=-1)                           # (T, K-1)
    cum = np.concatenate([np.zeros(length.shape[:-1] + (1,)), np.cumsum(length, axis=-1)], axis=-1)
    target = cum[..., -1:] * np.asarray(fractions)                  # (T, F)
    # Segment holding each target; zero-length segments (CMU's LowerBack) are skipped naturally.
    idx = np.clip((cum[..., None, 1:] < target[..., None]).sum(-1), 0, seg.shape[-2] - 1)  # (T, F)
    start = np.take_along_axis(cum[..., :-1], idx, axis=-1)
    seg_len = np.take_along_axis(length, idx, axis=-1)
    t = np.where(seg_len > 0, (target - start) / np.where(seg_len > 0, seg_len, 1.0), 0.0)
    p0 = np.take_along_axis(chain[..., :-1, :], idx[..., None], axis=-2)
    d = np.take_along_axis(seg, idx[..., None], axis=-2)
    return p0 + t[..., None] * d


def _resolve(conv: dict[str, tuple[str, ...]], norm: list[str], parents: list[int], end_site: list[bool]
             ) -> tuple[dict[str, int], dict[str, str]]:
    """Source index per canonical joint found, and the expected names of those not found."""
    index = {}
    for i, n in enumerate(norm):
        if not end_site[i]:
            index.setdefault(n, i)
    found, missing = {}, {}

    def lookup(patterns: tuple[str, ...], side: tuple[str, str] | None, anchor: int | None) -> int | None:
        for pat in patterns:
            if pat == "@end":  # no toe joint: the ankle's End Site marks the toes
                kids = [i for i, p in enumerate(parents) if p == anchor and end_site[i]] if anchor is not None else []
                if kids:
                    return kids[0]
                continue
            name = pat.format(l=side[0], left=side[1]) if side else pat
            if name in index:
                return index[name]
        return None

    for key in ("pelvis", "neck", "head"):
        i = lookup(conv[key], None, None)
        if i is None:
            missing[key] = conv[key][0]
        else:
            found[key] = i
    for prefix, side in (("left", ("l", "left")), ("right", ("r", "right"))):
        for key in _SIDE_JOINTS:
            canon = f"{prefix}_{key}"
            i = lookup(conv[key], side, found.get(f"{prefix}_ankle"))
            if i is None:
                pats = [p for p in conv[key] if p != "@end"]
                missing[canon] = pats[0].format(l=side[0], left=side[1])
            else:
                found[canon] = i
    return found, missing


def _chain(parents: list[int], start: int, stop: int) -> list[int] | None:
    """Joints from `start` up to its ancestor `stop`, inclusive, ordered stop -> start; None if not an ancestor."""
    path = [start]
    while path[-1] != stop:
        p = parents[path[-1]]
        if p < 0:
            return None
        path.append(p)
    return path[::-1]


def detect_skeleton(names: list[str], parents: list[int], end_site: list[bool] | None = None,
                    where: str = "") -> SkeletonMap:
    """Recognise the skeleton convention from joint names and build its map; raises SkeletonMapError."""
    end_site = list(end_site) if end_site is not None else [False] * len(names)
    norm = [normalize_name(n) for n in names]
    present = set(norm)
    order = list(_CONVENTIONS)
    if any(m in present for m in _CMU_MARKERS):
        order.remove("cmu")
        order.insert(0, "cmu")
    best = None
    for conv_name in order:
        conv = _CONVENTIONS[conv_name]
        found, missing = _resolve(conv, norm, parents, end_site)
        if missing:
            if best is None or len(missing) < len(best[1]):
                best = (conv_name, missing)
            continue
        chain = _chain(parents, found["neck"], found["pelvis"])
        if chain is None:
            best = best or (conv_name, {"neck": "a neck joint below the pelvis in the hierarchy"})
            continue
        source = [found.get(c, -1) for c in JOINT_NAMES]
        spine_names = conv["spine"]
        inner = chain[1:-1]
        if spine_names and [norm[i] for i in inner] == list(spine_names):
            for c, i in zip(("spine1", "spine2", "spine3"), inner):
                source[JOINT_INDEX[c]] = i
        return SkeletonMap(conv_name, tuple(source), tuple(chain), tuple(names))
    conv_name, missing = best
    real = [n for n, e in zip(names, end_site) if not e]
    lacking = ", ".join(f"{c} (e.g. {n!r})" for c, n in missing.items())
    raise SkeletonMapError(
        f"{where + ': ' if where else ''}cannot map this skeleton onto the 22 canonical joints. Closest known "
        f"convention: {conv_name}, which lacks {lacking}. The file's joints are: {', '.join(real)}. "
        "Supported: Bandai-Namco, CMU (cgspeed, Daz-style), Mixamo, SMPL/SMPL-X/AMASS, Character Creator "
        "(CC_Base_*), VRM/VRoid (J_Bip_*), Unreal mannequin and Auto-Rig Pro names; "
        "rename the joints to one of these.")
