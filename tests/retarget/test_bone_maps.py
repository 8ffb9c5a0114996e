"""Bone-map detection on the preset rigs, real BVH skeletons and other naming conventions; overrides; errors."""

import numpy as np
import pytest

from lavimo_core.motion.bvh import read_bvh
from lavimo_core.motion.skeleton import JOINT_NAMES
from lavimo_core.paths import find_dataset
from lavimo_core.retarget import BoneMapError, RetargetOptions, detect_bone_map, solve
from lavimo_core.retarget.bone_maps import normalize_bone_name
from lavimo_core.retarget.rig import Rig, bone_matrix
from lavimo_core.retarget.rig_presets import preset_rig


@pytest.mark.parametrize("preset,naming,mapped,root", [
    ("mixamo", "mixamo", 22, None), ("rigify", "rigify_def", 22, None), ("smpl", "smplx", 22, "root"),
    ("apose", "bandai_bvh", 21, None), ("unreal", "unreal5", 22, "root"),
])
def test_preset_rigs_are_recognised(preset, naming, mapped, root):
    bone_map = detect_bone_map(preset_rig(preset))
    assert (bone_map.preset, len(bone_map.joints), bone_map.root) == (naming, mapped, root)


def _renamed(rig: Rig, names: dict[str, str]) -> Rig:
    return Rig([names.get(n, n) for n in rig.names], rig.parents, rig.rest_matrices, rig.tails, name="renamed")


def _sided(table: dict[str, str], left: str, right: str) -> dict[str, str]:
    out = {}
    for joint, name in table.items():
        if joint.startswith("side_"):
            out["left_" + joint[5:]], out["right_" + joint[5:]] = name.format(s=left), name.format(s=right)
        else:
            out[joint] = name
    return out


CONVENTIONS = {
    "cmu": _sided({"pelvis": "Hips", "spine1": "LowerBack", "spine2": "Spine", "spine3": "Spine1", "neck": "Neck",
                   "head": "Head", "side_hip": "{s}UpLeg", "side_knee": "{s}Leg", "side_ankle": "{s}Foot",
                   "side_foot": "{s}ToeBase", "side_collar": "{s}Shoulder", "side_shoulder": "{s}Arm",
                   "side_elbow": "{s}ForeArm", "side_wrist": "{s}Hand", "root": "Reference"}, "Left", "Right"),
    "unreal4": _sided({"pelvis": "pelvis", "spine1": "spine_01", "spine2": "spine_02", "spine3": "spine_03",
                       "neck": "neck_01", "head": "head", "side_hip": "thigh_{s}", "side_knee": "calf_{s}",
                       "side_ankle": "foot_{s}", "side_foot": "ball_{s}", "side_collar": "clavicle_{s}",
                       "side_shoulder": "upperarm_{s}", "side_elbow": "lowerarm_{s}", "side_wrist": "hand_{s}"},
                      "l", "r"),
    "rigify_org": _sided({"pelvis": "ORG-spine", "spine1": "ORG-spine.001", "spine2": "ORG-spine.002",
                          "spine3": "ORG-spine.003", "neck": "ORG-spine.004", "head": "ORG-spine.006",
                          "side_hip": "ORG-thigh.{s}", "side_knee": "ORG-shin.{s}", "side_ankle": "ORG-foot.{s}",
                          "side_foot": "ORG-toe.{s}", "side_collar": "ORG-shoulder.{s}",
                          "side_shoulder": "ORG-upper_arm.{s}", "side_elbow": "ORG-forearm.{s}",
                          "side_wrist": "ORG-hand.{s}"}, "L", "R"),
    "rigify_metarig": _sided({"pelvis": "spine", "spine1": "spine.001", "spine2": "spine.002", "spine3": "spine.003",
                              "neck": "spine.004", "head": "spine.006", "side_hip": "thigh.{s}",
                              "side_knee": "shin.{s}", "side_ankle": "foot.{s}", "side_foot": "toe.{s}",
                              "side_collar": "shoulder.{s}", "side_shoulder": "upper_arm.{s}",
                              "side_elbow": "forearm.{s}", "side_wrist": "hand.{s}"}, "L", "R"),
    "smpl": _sided({"pelvis": "m_avg_Pelvis", "spine1": "m_avg_Spine1", "spine2": "m_avg_Spine2",
                    "spine3": "m_avg_Spine3", "neck": "m_avg_Neck", "head": "m_avg_Head", "side_hip": "m_avg_{s}_Hip",
                    "side_knee": "m_avg_{s}_Knee", "side_ankle": "m_avg_{s}_Ankle", "side_foot": "m_avg_{s}_Foot",
                    "side_collar": "m_avg_{s}_Collar", "side_shoulder": "m_avg_{s}_Shoulder",
                    "side_elbow": "m_avg_{s}_Elbow", "side_wrist": "m_avg_{s}_Wrist", "root": "m_avg_root"}, "L", "R"),
}


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_other_naming_conventions_are_recognised(convention, bandai_motions, posed, segment_errors):
    rig = _renamed(preset_rig("smpl"), CONVENTIONS[convention])
    bone_map = detect_bone_map(rig)
    assert bone_map.preset == convention
    assert bone_map.joints == {j: CONVENTIONS[convention][j] for j in JOINT_NAMES}
    result = solve(bandai_motions["walk_normal_001"], rig, bone_map, RetargetOptions(foot_lock=False))
    assert segment_errors(rig, bone_map, result, posed(rig, result)).max() < 0.01


@pytest.mark.parametrize("prefix", ["mixamorig:", "mixamorig1:", "mixamorig12:", "", "Armature|mixamorig:"])
def test_any_mixamo_prefix(prefix):
    rig = preset_rig("mixamo")
    rig = _renamed(rig, {n: prefix + n.split(":", 1)[1] for n in rig.names})
    bone_map = detect_bone_map(rig)
    assert bone_map.preset == "mixamo" and bone_map.joints["left_elbow"] == prefix + "LeftForeArm"
    assert normalize_bone_name(prefix + "LeftForeArm") == "leftforearm"


def _bvh_rig(path) -> Rig:
    """A rig from a BVH file's own skeleton (its rest offsets), as a BVH importer would build it."""
    bvh = read_bvh(path)
    heads = np.zeros((len(bvh.names), 3))
    for i, p in enumerate(bvh.parents):
        heads[i] = bvh.offsets[i] + (heads[p] if p >= 0 else 0)
    keep = [i for i in range(len(bvh.names)) if not bvh.end_site[i]]
    mats, tails = [], []
    for i in keep:
        children = [c for c, p in enumerate(bvh.parents) if p == i]
        tail = heads[children[0]] if children else heads[i]
        if np.linalg.norm(tail - heads[i]) < 1e-3:
            tail = heads[i] + (0.0, 5.0, 0.0)
        mats.append(bone_matrix(heads[i], tail, 0.0))
        tails.append(tail)
    parents = [keep.index(bvh.parents[i]) if bvh.parents[i] >= 0 else -1 for i in keep]
    return Rig([bvh.names[i] for i in keep], parents, np.stack(mats), np.array(tails), name="bvh")


def test_bandai_skeleton_from_its_own_file(bandai_motions, posed, segment_errors):
    path = find_dataset("bandai-namco-1") / "data" / "dataset-1_run_normal_001.bvh"
    rig = _bvh_rig(path)
    bone_map = detect_bone_map(rig)
    assert bone_map.preset == "bandai_bvh" and bone_map.root == "joint_Root"
    assert bone_map.report(rig).unmapped_joints == ["spine2"]
    motion = bandai_motions["run_normal_001"]
    result = solve(motion, rig, bone_map, RetargetOptions(floor_contact=False, foot_lock=False))
    assert result.report.scale == pytest.approx(100.0, rel=0.01)  # a centimetre rig, the clip's own proportions
    pose = posed(rig, result)
    assert segment_errors(rig, bone_map, result, pose).max() < 0.01
    # The loader puts canonical spine joints on the pelvis-neck polyline (HumanML3D's spacing), not on the
    # file's Spine/Chest joints, so only the pelvis and legs must come back joint for joint.
    legs = [j for j in JOINT_NAMES if j == "pelvis" or j.endswith(("hip", "knee", "ankle", "foot"))]
    heads = pose[:, [rig.index(bone_map.joints[j]) for j in legs]][..., :3, 3]
    want = result.placement.to_armature(result.source_joints[:, [JOINT_NAMES.index(j) for j in legs]])
    assert np.abs(heads - want).max() < 0.1  # centimetres


def test_overrides_replace_unmap_and_set_the_root():
    rig = preset_rig("unreal")
    bone_map = detect_bone_map(rig, {"left_wrist": None, "spine2": "spine_02", "root": None})
    assert "left_wrist" not in bone_map.joints and bone_map.joints["spine2"] == "spine_02"
    assert bone_map.root is None and bone_map.preset == "unreal5+overrides"
    report = bone_map.report(rig)
    assert report.unmapped_joints == ["left_wrist"] and "hand_l" in report.unmapped_bones
    # A rig nothing recognises works from overrides alone.
    anonymous = _renamed(preset_rig("smpl"), {n: f"bone{i:02d}" for i, n in enumerate(preset_rig("smpl").names)})
    names = preset_rig("smpl").names
    overrides = {j: f"bone{names.index(j):02d}" for j in JOINT_NAMES}
    bone_map = detect_bone_map(anonymous, overrides)
    assert bone_map.preset == "custom" and bone_map.root == "bone00" and len(bone_map.joints) == 22


def test_bad_overrides_are_named():
    rig = preset_rig("mixamo")
    with pytest.raises(BoneMapError, match="unknown canonical joint.*'left_tail'"):
        detect_bone_map(rig, {"left_tail": "mixamorig:Hips"})
    with pytest.raises(BoneMapError, match="no bone.*'LeftShin' \\(for left_knee\\)"):
        detect_bone_map(rig, {"left_knee": "LeftShin"})
    with pytest.raises(BoneMapError, match="'mixamorig:LeftLeg' is mapped to both left_knee and right_knee"):
        detect_bone_map(rig, {"right_knee": "mixamorig:LeftLeg"})


def test_too_few_bones_names_the_missing_joints():
    rig = preset_rig("mixamo")
    legless = _renamed(rig, {n: n.replace("Leg", "Limb") for n in rig.names})
    with pytest.raises(BoneMapError) as err:
        detect_bone_map(legless)
    message = str(err.value)
    for joint in ("left_hip", "right_hip", "left_knee", "right_knee"):
        assert joint in message
    assert "overrides" in message and "'renamed'" in message
    with pytest.raises(BoneMapError, match="Missing canonical joints: pelvis"):
        detect_bone_map(_renamed(rig, {n: f"b{i}" for i, n in enumerate(rig.names)}))


def test_report_lists_untouched_bones():
    rig = preset_rig("mixamo")
    report = detect_bone_map(rig).report(rig)
    assert len(report.mapped) == 22 and not report.unmapped_joints
    # Three segments of each finger are mapped for the full-body transfer; finger tips and end bones are not.
    assert len(report.extras) == 30 and report.extras["left_index1"] == "mixamorig:LeftHandIndex1"
    assert "mixamorig:LeftHandIndex4" in report.unmapped_bones and "mixamorig:HeadTop_End" in report.unmapped_bones
    assert len(report.unmapped_bones) == 65 - 22 - 30
    assert "mixamo, 22/22 joints mapped" in report.summary()
