"""Skeleton maps: a real Bandai-Namco clip, and the same clip rebuilt in the CMU, Daz, Mixamo and SMPL conventions."""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core.errors import LavimoError
from lavimo_core.motion.bvh import BVH, bvh_from_transforms, read_bvh, write_bvh
from lavimo_core.motion.load import bvh_joints
from lavimo_core.motion.skeleton import JOINT_INDEX, JOINT_NAMES
from lavimo_core.motion.skeleton_maps import (
    SPINE_FRACTIONS,
    SkeletonMapError,
    detect_skeleton,
    interpolate_chain,
    normalize_name,
)
from lavimo_core.paths import find_dataset

CLIP = find_dataset("bandai-namco-1") / "data" / "dataset-1_walk-left_happy_001.bvh"
TOL = 1e-4  # cm, i.e. 1e-6 m
SPINE = [JOINT_INDEX[n] for n in ("spine1", "spine2", "spine3")]
NOT_SPINE = [i for i in range(22) if i not in SPINE]


@dataclass
class Skel:
    """A skeleton as editable arrays: names, parents, offsets, local rotations (T,J,4) and translations."""
    names: list
    parents: list
    offsets: np.ndarray
    quats: np.ndarray
    trans: np.ndarray
    end_site: list
    frame_time: float

    @classmethod
    def of(cls, bvh: BVH) -> "Skel":
        q, t = bvh.local_transforms()
        return cls(list(bvh.names), list(bvh.parents), bvh.offsets.copy(), q, t, list(bvh.end_site), bvh.frame_time)

    def rename(self, mapping: dict) -> "Skel":
        self.names = [mapping.get(n, n) for n in self.names]
        return self

    def insert_above(self, child: str, name: str, fraction: float) -> "Skel":
        """A new joint between `child` and its parent, `fraction` of the way, with identity rotation."""
        c = self.names.index(child)
        self.parents = [p + (p >= c) for p in self.parents]
        self.parents.insert(c, self.parents[c])
        self.parents[c + 1] = c
        self.names.insert(c, name)
        self.end_site.insert(c, False)
        self.offsets = np.insert(self.offsets, c, self.offsets[c] * fraction, axis=0)
        self.offsets[c + 1] *= 1 - fraction
        ident = np.zeros_like(self.quats[:, :1])
        ident[..., 3] = 1
        self.quats = np.concatenate([self.quats[:, :c], ident, self.quats[:, c:]], axis=1)
        self.trans = np.concatenate([self.trans[:, :c], self.trans[:, c:c + 1] * fraction, self.trans[:, c:]], axis=1)
        self.trans[:, c + 1] *= 1 - fraction
        return self

    def remove(self, name: str) -> "Skel":
        """Fold joint `name` into its children (the pose of everything else is unchanged)."""
        j = self.names.index(name)
        r = Rotation.from_quat(self.quats[:, j])
        for c in [i for i, p in enumerate(self.parents) if p == j]:
            self.trans[:, c] = self.trans[:, j] + r.apply(self.trans[:, c])
            self.offsets[c] = self.offsets[j] + r[0].apply(self.offsets[c])
            self.quats[:, c] = (r * Rotation.from_quat(self.quats[:, c])).as_quat()
            self.parents[c] = self.parents[j]
        self.drop(j)
        return self

    def drop(self, j: int) -> None:
        keep = [i for i in range(len(self.names)) if i != j]
        self.parents = [p - (p > j) for i, p in enumerate(self.parents) if i != j]
        self.names = [self.names[i] for i in keep]
        self.end_site = [self.end_site[i] for i in keep]
        self.offsets, self.quats, self.trans = self.offsets[keep], self.quats[:, keep], self.trans[:, keep]

    def to_end_site(self, name: str) -> "Skel":
        """Turn leaf joint `name` (its only child an End Site) into an End Site at its translation."""
        j = self.names.index(name)
        self.end_site[j] = True
        self.offsets[j] = self.trans[0, j]
        self.drop(self.parents.index(j))
        return self

    def write(self, path) -> BVH:
        write_bvh(path, bvh_from_transforms(self.names, self.parents, self.offsets, self.quats, self.trans,
                                            self.frame_time, self.end_site))
        return read_bvh(path)


@pytest.fixture(scope="module")
def bandai() -> BVH:
    return read_bvh(CLIP)


@pytest.fixture(scope="module")
def reference(bandai) -> np.ndarray:
    return bvh_joints(bandai, fps=bandai.fps)[0]


def canonical(bvh: BVH) -> tuple[np.ndarray, str]:
    return bvh_joints(bvh, fps=bvh.fps)


def test_bandai_map(bandai):
    smap = detect_skeleton(bandai.names, bandai.parents, bandai.end_site)
    assert smap.convention == "bandai-namco"
    m = smap.mapping()
    assert (m["pelvis"], m["neck"], m["head"]) == ("Hips", "Neck", "Head")
    assert (m["left_hip"], m["left_knee"], m["left_ankle"], m["left_foot"]) == ("UpperLeg_L", "LowerLeg_L", "Foot_L", "Toes_L")
    assert (m["right_collar"], m["right_shoulder"], m["right_elbow"], m["right_wrist"]) == (
        "Shoulder_R", "UpperArm_R", "LowerArm_R", "Hand_R")
    assert m["spine1"] == m["spine2"] == m["spine3"] == "interpolated"


def test_bandai_spine_is_interpolated_along_hips_spine_chest_neck(bandai, reference):
    p = bandai.positions()
    chain = p[:, [bandai.names.index(n) for n in ("Hips", "Spine", "Chest", "Neck")]]
    seg = np.linalg.norm(np.diff(chain, axis=1), axis=-1)
    cum = np.concatenate([np.zeros((len(p), 1)), np.cumsum(seg, 1)], 1)
    for t in (0, 50, len(p) - 1):
        for k, f in enumerate(SPINE_FRACTIONS):
            expected = [np.interp(f * cum[t, -1], cum[t], chain[t, :, a]) for a in range(3)]
            np.testing.assert_allclose(reference[t, SPINE[k]], expected, atol=1e-9)
    # spine3 falls just above Chest (Chest sits at 60% of the chain, spine3 at 60.2%).
    assert np.linalg.norm(reference[:, SPINE[2]] - chain[:, 2], axis=-1).max() < 0.5


def test_interpolate_chain_skips_zero_length_segments():
    chain = np.array([[[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 3, 0]]], float)
    out = interpolate_chain(chain, (0.0, 0.25, 0.5, 1.0))
    np.testing.assert_allclose(out[0, :, 1], [0, 0.75, 1.5, 3.0])


def test_normalize_name():
    assert normalize_name("mixamorig:LeftArm") == "leftarm"
    assert normalize_name("mixamorig12:LeftArm") == "leftarm"
    assert normalize_name("Armature|mixamorig:Hips") == "hips"
    assert normalize_name("mixamorig_Spine2") == "spine2"
    assert normalize_name("m_avg_L_Hip") == "l_hip"


MIXAMO = {"Hips": "Hips", "Spine": "Spine", "Chest": "Spine2", "Neck": "Neck", "Head": "Head"}
for _s, _side in (("L", "Left"), ("R", "Right")):
    MIXAMO.update({f"Shoulder_{_s}": f"{_side}Shoulder", f"UpperArm_{_s}": f"{_side}Arm",
                   f"LowerArm_{_s}": f"{_side}ForeArm", f"Hand_{_s}": f"{_side}Hand",
                   f"UpperLeg_{_s}": f"{_side}UpLeg", f"LowerLeg_{_s}": f"{_side}Leg",
                   f"Foot_{_s}": f"{_side}Foot", f"Toes_{_s}": f"{_side}ToeBase"})


def expected_three_spine(reference, bandai):
    """Canonical joints when a joint is inserted halfway between Spine and Chest and used as spine2."""
    p = bandai.positions()
    out = reference.copy()
    sp, ch = p[:, bandai.names.index("Spine")], p[:, bandai.names.index("Chest")]
    out[:, SPINE] = np.stack([sp, (sp + ch) / 2, ch], axis=1)
    return out


@pytest.mark.parametrize("prefix", ["mixamorig:", "mixamorig1:", "mixamorig7:", "Armature|mixamorig:", ""])
def test_mixamo(bandai, reference, tmp_path, prefix):
    sk = Skel.of(bandai).insert_above("Chest", "Spine1", 0.5)
    sk.rename({k: prefix + v for k, v in MIXAMO.items()} | {"Spine1": prefix + "Spine1"})
    bvh = sk.write(tmp_path / "mixamo.bvh")
    joints, conv = canonical(bvh)
    assert conv == "mixamo"
    np.testing.assert_allclose(joints, expected_three_spine(reference, bandai), atol=TOL)


def test_cmu_cgspeed(bandai, reference, tmp_path):
    names = dict(MIXAMO, Chest="Spine1")
    sk = Skel.of(bandai).rename(names)
    sk.insert_above("Spine", "LowerBack", 0.0)        # cgspeed: LowerBack and LHipJoint at zero offset
    sk.insert_above("LeftUpLeg", "LHipJoint", 0.0).insert_above("RightUpLeg", "RHipJoint", 0.0)
    sk.insert_above("Head", "Neck1", 0.5)
    bvh = sk.write(tmp_path / "cmu.bvh")
    joints, conv = canonical(bvh)
    assert conv == "cmu"
    assert detect_skeleton(bvh.names, bvh.parents, bvh.end_site).mapping()["spine1"] == "interpolated"
    np.testing.assert_allclose(joints, reference, atol=TOL)


def test_daz_style_without_toes(bandai, reference, tmp_path):
    names = {"Hips": "hip", "Spine": "abdomen", "Chest": "chest", "Neck": "neck", "Head": "head"}
    for s in "LR":
        l = s.lower()
        names.update({f"Shoulder_{s}": f"{l}Collar", f"UpperArm_{s}": f"{l}Shldr", f"LowerArm_{s}": f"{l}ForeArm",
                      f"Hand_{s}": f"{l}Hand", f"UpperLeg_{s}": f"{l}Thigh", f"LowerLeg_{s}": f"{l}Shin",
                      f"Foot_{s}": f"{l}Foot"})
    sk = Skel.of(bandai).rename(names)
    for s in "LR":  # the Daz-friendly CMU files end the leg at the foot: toes become the foot's End Site
        sk.to_end_site(f"Toes_{s}")
    sk.insert_above("lThigh", "lButtock", 0.0).insert_above("rThigh", "rButtock", 0.0)
    bvh = sk.write(tmp_path / "daz.bvh")
    assert "Toes_L" not in bvh.names and bvh.end_site[bvh.parents.index(bvh.names.index("lFoot"))]
    joints, conv = canonical(bvh)
    assert conv == "daz"
    np.testing.assert_allclose(joints, reference, atol=TOL)


def test_daz_genesis_with_four_spine_joints(bandai, reference, tmp_path):
    # Extra spine joints on the straight segments leave the chain (and so the interpolation) unchanged.
    names = {"Hips": "hip", "Spine": "abdomenLower", "Chest": "chestLower", "Neck": "neckLower", "Head": "head"}
    for s in "LR":
        l = s.lower()
        names.update({f"Shoulder_{s}": f"{l}Collar", f"UpperArm_{s}": f"{l}ShldrBend",
                      f"LowerArm_{s}": f"{l}ForearmBend", f"Hand_{s}": f"{l}Hand", f"UpperLeg_{s}": f"{l}ThighBend",
                      f"LowerLeg_{s}": f"{l}Shin", f"Foot_{s}": f"{l}Foot", f"Toes_{s}": f"{l}Toe"})
    sk = Skel.of(bandai).rename(names)
    sk.insert_above("chestLower", "abdomenUpper", 0.5).insert_above("neckLower", "chestUpper", 0.3)
    joints, conv = canonical(sk.write(tmp_path / "genesis.bvh"))
    assert conv == "daz"
    np.testing.assert_allclose(joints, reference, atol=TOL)


@pytest.mark.parametrize("style", ["smpl", "smpl-fbx", "smplx"])
def test_smpl_names(bandai, reference, tmp_path, style):
    names = {"Hips": "Pelvis", "Spine": "Spine1", "Chest": "Spine3", "Neck": "Neck", "Head": "Head"}
    for s in ("L", "R"):
        names.update({f"Shoulder_{s}": f"{s}_Collar", f"UpperArm_{s}": f"{s}_Shoulder",
                      f"LowerArm_{s}": f"{s}_Elbow", f"Hand_{s}": f"{s}_Wrist", f"UpperLeg_{s}": f"{s}_Hip",
                      f"LowerLeg_{s}": f"{s}_Knee", f"Foot_{s}": f"{s}_Ankle", f"Toes_{s}": f"{s}_Foot"})
    if style == "smplx":  # SMPL-X / AMASS code: left_hip, spine1, ...
        names = {k: v.replace("L_", "left_").replace("R_", "right_").lower() for k, v in names.items()}
    if style == "smpl-fbx":
        names = {k: "m_avg_" + v for k, v in names.items()}
    sk = Skel.of(bandai).rename(names)
    mid = {"smpl": "Spine2", "smplx": "spine2", "smpl-fbx": "m_avg_Spine2"}[style]
    sk.insert_above(names["Chest"], mid, 0.5)
    joints, conv = canonical(sk.write(tmp_path / "smpl.bvh"))
    assert conv == "smpl"
    np.testing.assert_allclose(joints, expected_three_spine(reference, bandai), atol=TOL)


def test_single_spine_joint_is_interpolated_on_the_shorter_chain(bandai, reference, tmp_path):
    sk = Skel.of(bandai).remove("Chest")  # Hips -> Spine -> Neck
    bvh = sk.write(tmp_path / "one_spine.bvh")
    np.testing.assert_allclose(bvh.positions()[:, bvh.names.index("Neck")],
                               bandai.positions()[:, bandai.names.index("Neck")], atol=TOL)
    joints, conv = canonical(bvh)
    assert conv == "bandai-namco"
    np.testing.assert_allclose(joints[:, NOT_SPINE], reference[:, NOT_SPINE], atol=TOL)
    p = bvh.positions()
    chain = p[:, [bvh.names.index(n) for n in ("Hips", "Spine", "Neck")]]
    seg = np.linalg.norm(np.diff(chain, axis=1), axis=-1)
    cum = np.concatenate([np.zeros((len(p), 1)), np.cumsum(seg, 1)], 1)
    for t in (0, len(p) // 2):
        for k, f in enumerate(SPINE_FRACTIONS):
            expected = [np.interp(f * cum[t, -1], cum[t], chain[t, :, a]) for a in range(3)]
            np.testing.assert_allclose(joints[t, SPINE[k]], expected, atol=TOL)


def test_missing_joint_is_named(bandai, tmp_path):
    bvh = Skel.of(bandai).remove("Hand_L").write(tmp_path / "no_hand.bvh")
    with pytest.raises(SkeletonMapError) as info:
        canonical(bvh)
    msg = str(info.value)
    assert isinstance(info.value, LavimoError)
    assert "bandai-namco" in msg and "left_wrist" in msg and "hand_l" in msg
    assert "LowerArm_L" in msg  # the file's own joints are listed
    assert "right_wrist" not in msg


def test_unknown_skeleton_lists_missing_joints_and_names(bandai, tmp_path):
    sk = Skel.of(bandai).rename({n: f"bone{i:02d}" for i, n in enumerate(bandai.names)})
    bvh = sk.write(tmp_path / "unknown.bvh")
    with pytest.raises(SkeletonMapError, match="cannot map this skeleton") as info:
        detect_skeleton(bvh.names, bvh.parents, bvh.end_site, where=str(tmp_path / "unknown.bvh"))
    msg = str(info.value)
    assert str(tmp_path / "unknown.bvh") in msg and "bone05" in msg
    for joint in JOINT_NAMES:
        if joint not in ("spine1", "spine2", "spine3"):
            assert joint in msg
