"""Full-body transfer in the core: the source file's rotations (source_pose), transfer_rotations, the solve with
them, finger and other-naming bone maps, and what happens when the source file is gone or changed."""

import shutil

import numpy as np
import pytest

from lavimo_core.motion.load import load_motion
from lavimo_core.motion.motion import Motion
from lavimo_core.retarget import RetargetOptions, detect_bone_map, solve
from lavimo_core.retarget.bone_maps import EXTRA_JOINTS, extra_parent
from lavimo_core.retarget.control_rig import joint_tree_rig
from lavimo_core.retarget.rig import Rig
from lavimo_core.retarget.rig_presets import preset_rig
from lavimo_core.retarget.root import heading_yaw
from lavimo_core.retarget.source_pose import source_pose, yaw_matrices


def _world_rotations(rig, result, posed):
    return posed(rig, result)[..., :3, :3]


def _follow_error(world: np.ndarray, source: np.ndarray, placement: np.ndarray) -> np.ndarray:
    """Degrees (T,) between a bone's world rotation since frame 0 and the source joint's (armature axes)."""
    s = placement @ source
    d_got = world @ np.swapaxes(world[:1], 1, 2)
    d_src = s @ np.swapaxes(s[:1], 1, 2)
    r = np.swapaxes(d_got, 1, 2) @ d_src
    return np.degrees(np.arccos(np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1, 1)))


@pytest.mark.parametrize("preset", ["mixamo", "apose", "unreal", "rigify"])
def test_head_and_wrists_follow_the_source_and_did_not_before(bandai_motions, posed, segment_errors, preset):
    motion = bandai_motions["bow_normal_001"]
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    source, warning = source_pose(motion, 30.0)
    assert warning is None and source.skeleton == "bandai-namco"
    full = solve(motion, rig, bone_map, RetargetOptions(fps=30.0, foot_lock=False), source)
    today = solve(motion, rig, bone_map, RetargetOptions(fps=30.0, foot_lock=False))
    place = full.placement.rotation
    for joint in ("head", "left_wrist", "right_wrist", "left_foot", "neck", "left_elbow", "right_knee"):
        i = rig.index(bone_map.joints[joint])
        e = _follow_error(_world_rotations(rig, full, posed)[:, i], source.rotation(joint), place)
        assert e.max() < 0.5, joint
    # Today's direction-only solve leaves the wrists at their rest pose relative to the forearm.
    i = rig.index(bone_map.joints["left_wrist"])
    assert _follow_error(_world_rotations(rig, today, posed)[:, i], source.rotation("left_wrist"), place).mean() > 10
    # The body still points where the source points (the issue-6 direction metric).
    errors = segment_errors(rig, bone_map, full, posed(rig, full))
    assert errors.mean() <= 5.0 and errors.max() <= 20.0
    assert {"head", "left_wrist", "right_foot"} <= set(full.report.transferred)


def test_fingers_from_a_cmu_clip(tmp_path, posed):
    import tarfile

    from lavimo_core.paths import find_dataset

    with tarfile.open(find_dataset("cmu-acrnn") / "bvh.tar.xz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("martial_04.bvh"))
        member.name = "martial_04.bvh"
        tar.extract(member, tmp_path, filter="data")
    full = load_motion(tmp_path / "martial_04.bvh")
    motion = Motion("martial_04[:120]", full.joints[:120], source=full.source)   # a prefix of the file still fits
    rig = preset_rig("mixamo")
    bone_map = detect_bone_map(rig)
    source, warning = source_pose(motion, 20.0)
    assert warning is None and source.skeleton == "daz"
    assert {f"{s}_{f}{i}" for s in ("left", "right") for f in ("thumb", "index", "middle", "ring", "pinky")
            for i in (1, 2)} <= set(source.joints)
    result = solve(motion, rig, bone_map, RetargetOptions(fps=20.0, foot_lock=False), source)
    world = _world_rotations(rig, result, posed)
    for joint in ("left_index1", "left_index2", "right_thumb2", "right_pinky1"):
        assert bone_map.extras[joint] in result.rotations
        e = _follow_error(world[:, rig.index(bone_map.extras[joint])], source.rotation(joint), result.placement.rotation)
        assert e.max() < 0.5, joint
    assert "mixamorig:LeftHandIndex3" not in result.rotations    # no third segment in the source: left alone


def test_locked_heading_turns_the_transferred_bones_with_the_body(bandai_motions, posed):
    motion = bandai_motions["kick_normal_001"]   # three full turns
    rig = preset_rig("smpl")
    bone_map = detect_bone_map(rig)
    source, _ = source_pose(motion, 20.0)
    result = solve(motion, rig, bone_map, RetargetOptions(fps=20.0, root_motion="locked_heading", foot_lock=False), source)
    world = _world_rotations(rig, result, posed)
    turn = heading_yaw(motion.joints.astype(np.float64), 20.0)
    locked = result.placement.rotation @ yaw_matrices(-(turn - turn[0]))
    for joint in ("head", "left_wrist", "right_ankle"):
        e = _follow_error(world[:, rig.index(bone_map.joints[joint])], locked @ source.rotation(joint), np.eye(3))
        assert e.max() < 0.5, joint
    # Without the lock the same bones turn with the body: three turns away from the locked ones.
    free = solve(motion, rig, bone_map, RetargetOptions(fps=20.0, foot_lock=False), source)
    e = _follow_error(_world_rotations(rig, free, posed)[:, rig.index("head")], locked @ source.rotation("head"),
                      np.eye(3))
    assert e.max() > 90


def test_missing_or_changed_source_file(tmp_path, bandai_motions):
    path = tmp_path / "walk.bvh"
    shutil.copy(bandai_motions["walk_normal_001"].source.path, path)
    motion = load_motion(path)
    assert source_pose(motion, 20.0)[0] is not None
    shutil.copy(bandai_motions["kick_normal_001"].source.path, path)   # another (longer) clip, same name
    source, warning = source_pose(motion, 20.0)
    assert source is None and "no longer matches" in warning
    shutil.copy(bandai_motions["bow_normal_001"].source.path, path)    # a shorter one
    source, warning = source_pose(motion, 20.0)
    assert source is None and "changed since import" in warning
    path.unlink()
    source, warning = source_pose(motion, 20.0)
    assert source is None and "is not here" in warning and "head, hands, fingers and toes" in warning
    # Joint-only clips (HumanML3D) have no source file: no warning, the direction solve does it all.
    assert source_pose(Motion("h", motion.joints), 20.0) == (None, None)


@pytest.mark.parametrize("names,preset", [
    ({"pelvis": "CC_Base_Hip", "spine1": "CC_Base_Waist", "spine2": "CC_Base_Spine01", "spine3": "CC_Base_Spine02",
      "neck": "CC_Base_NeckTwist01", "head": "CC_Base_Head", "side_hip": "CC_Base_{s}_Thigh",
      "side_knee": "CC_Base_{s}_Calf", "side_ankle": "CC_Base_{s}_Foot", "side_foot": "CC_Base_{s}_ToeBase",
      "side_collar": "CC_Base_{s}_Clavicle", "side_shoulder": "CC_Base_{s}_Upperarm",
      "side_elbow": "CC_Base_{s}_Forearm", "side_wrist": "CC_Base_{s}_Hand"}, "cc_base"),
    ({"pelvis": "J_Bip_C_Hips", "spine1": "J_Bip_C_Spine", "spine2": "J_Bip_C_Chest", "spine3": "J_Bip_C_UpperChest",
      "neck": "J_Bip_C_Neck", "head": "J_Bip_C_Head", "side_hip": "J_Bip_{s}_UpperLeg",
      "side_knee": "J_Bip_{s}_LowerLeg", "side_ankle": "J_Bip_{s}_Foot", "side_foot": "J_Bip_{s}_ToeBase",
      "side_collar": "J_Bip_{s}_Shoulder", "side_shoulder": "J_Bip_{s}_UpperArm",
      "side_elbow": "J_Bip_{s}_LowerArm", "side_wrist": "J_Bip_{s}_Hand"}, "vrm"),
])
def test_character_creator_and_vroid_names(bandai_motions, posed, segment_errors, names, preset):
    table = {}
    for joint, name in names.items():
        if joint.startswith("side_"):
            table["left_" + joint[5:]], table["right_" + joint[5:]] = name.format(s="L"), name.format(s="R")
        else:
            table[joint] = name
    base = preset_rig("smpl")
    rig = Rig([table.get(n, n) for n in base.names], base.parents, base.rest_matrices, base.tails, name=preset)
    bone_map = detect_bone_map(rig)
    assert bone_map.preset == preset and len(bone_map.joints) == 22
    motion = bandai_motions["walk_normal_001"]
    result = solve(motion, rig, bone_map, RetargetOptions(foot_lock=False), source_pose(motion, 20.0)[0])
    assert segment_errors(rig, bone_map, result, posed(rig, result)).mean() < 1.0


def test_extra_joints_hang_from_the_wrist_and_joint_tree_rig_keeps_the_body_tree():
    assert extra_parent("left_index1") == "left_wrist" and extra_parent("right_pinky3") == "right_pinky2"
    assert len(EXTRA_JOINTS) == 30
    rig = preset_rig("mixamo")
    sub, bone_map = joint_tree_rig(rig, detect_bone_map(rig))
    assert len(sub.names) == 52
    assert sub.names[sub.parents[sub.index("mixamorig:LeftHandIndex1")]] == "mixamorig:LeftHand"
    assert sub.names[sub.parents[sub.index("mixamorig:LeftShoulder")]] == "mixamorig:Spine2"


def test_a_trimmed_range_keeps_the_source_rotations(bandai_motions, posed):
    """A range cut out of a take (moment search) still turns head and wrists with the source file's rotations.

    The cut is re-placed and turned to face +Z, so source_pose(cut) finds the file no longer matches it and
    used to fall back to the direction solve; cut_source_pose cuts and turns the whole clip's rotations instead.
    """
    from lavimo_core.retarget.trim import cut_range, cut_source_pose

    whole = bandai_motions["bow_normal_001"]
    fps = 30.0
    part, first, before = cut_range(whole, (1.03, 2.5), 5, fps)
    assert before == 5 and first == round(1.03 * fps) - 5
    assert source_pose(part, fps)[0] is None                       # the failure this guards against
    source, warning = source_pose(whole, fps)
    assert warning is None
    cut = cut_source_pose(source, whole, part, first, fps)
    assert cut is not None
    rig = preset_rig("mixamo")
    bone_map = detect_bone_map(rig)
    options = RetargetOptions(fps=fps, foot_lock=False)
    on_part = solve(part, rig, bone_map, options, cut)
    on_whole = solve(whole, rig, bone_map, options, source)
    assert {"head", "left_wrist"} <= set(on_part.report.transferred)
    span = slice(first, first + on_part.num_frames)
    for joint in ("head", "left_wrist", "right_wrist"):
        i = rig.index(bone_map.joints[joint])
        parent = rig.parents[i]
        a, b = posed(rig, on_part)[..., :3, :3], posed(rig, on_whole)[span, ..., :3, :3]
        local_a = np.swapaxes(a[:, parent], 1, 2) @ a[:, i]
        local_b = np.swapaxes(b[:, parent], 1, 2) @ b[:, i]
        r = np.swapaxes(local_a, 1, 2) @ local_b
        degrees = np.degrees(np.arccos(np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1, 1)))
        assert degrees.mean() < 2.0, (joint, degrees.mean())
