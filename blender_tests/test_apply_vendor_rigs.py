"""Rigs named and posed as Character Creator, VRoid, UE5 Manny and Auto-Rig Pro exports reach Blender (built by
rig_presets: CC_Base_* A-pose in centimetres, J_Bip_* with glTF frames, Manny's limbs along each bone's X,
ARP's twist/stretch limbs): only mapped bones get keys, fingers follow a real CMU clip with fingers, and ARP's
limbs turn at the joints. The bone names were checked against public code using these rigs (see the report
of issue 16).
"""

import bpy
import numpy as np
import pytest

from blender_tests.rig_fixtures import clip, import_source_bvh, keyed_bones, measure, rotation_errors
from lavimo_blender.apply.core import ApplyOptions, apply_motion
from lavimo_blender.apply.rig_builder import build_armature

VENDOR_RIGS = ("cc", "vroid", "manny", "auto_rig_pro")
# Helper bones each rig has that no source joint drives: they must keep no keys.
HELPERS = {"cc": ("CC_Base_Pelvis", "CC_Base_L_UpperarmTwist01", "CC_Base_R_CalfTwist01", "CC_Base_NeckTwist02"),
           "vroid": ("J_Sec_Hair1_01", "J_Adj_L_FaceEye", "J_Sec_L_Bust1", "J_Sec_R_Bust1"),
           "manny": ("ik_hand_gun", "ik_foot_l", "index_metacarpal_l", "upperarm_twist_01_r", "neck_02"),
           "auto_rig_pro": ("thigh_stretch.l", "arm_stretch.r", "leg_twist.l", "forearm_twist.r", "index1_base.l")}

# cgspeed's Daz-style CMU names per retargeting joint (two segments per finger, no toes; the spine is left out:
# the rig's spine is posed by directions over a spine the source only has two joints of).
DAZ = {"pelvis": "hip", "neck": "neck", "head": "head"}
for _s in ("left", "right"):
    _x = _s[0]
    DAZ.update({f"{_s}_collar": f"{_x}Collar", f"{_s}_shoulder": f"{_x}Shldr", f"{_s}_elbow": f"{_x}ForeArm",
                f"{_s}_wrist": f"{_x}Hand", f"{_s}_hip": f"{_x}Thigh", f"{_s}_knee": f"{_x}Shin",
                f"{_s}_ankle": f"{_x}Foot"})
    for _f, _d in (("thumb", "Thumb"), ("index", "Index"), ("middle", "Mid"), ("ring", "Ring"), ("pinky", "Pinky")):
        DAZ.update({f"{_s}_{_f}{i}": f"{_x}{_d}{i}" for i in (1, 2)})


@pytest.mark.parametrize("preset", VENDOR_RIGS)
def test_only_mapped_bones_get_keys(clean_scene, preset):
    obj = build_armature(preset)
    report = apply_motion(bpy.context, obj, clip("walk_normal_001"))
    keyed = keyed_bones(obj)
    mapped = set(report.bone_map.mapped.values())
    allowed = mapped | set(report.bone_map.extras.values()) | {report.bone_map.root}
    print(f"{preset}: {len(keyed)} keyed of {len(obj.data.bones)} bones, root {report.bone_map.root}")
    assert keyed == set(report.keyed_bones) and mapped <= keyed <= allowed
    assert len(mapped) == 22 and report.bone_map.root is not None
    assert not keyed & set(HELPERS[preset])


@pytest.mark.parametrize("preset", VENDOR_RIGS)
def test_fingers_follow_a_cmu_clip(clean_scene, cmu_clip, preset):
    scene = clean_scene
    scene.render.fps, scene.render.fps_base = 20, 1.0   # the motion's rate; the 120 fps file is spread over it
    motion, path = cmu_clip
    source = import_source_bvh(path, fps_scale=True)
    obj = build_armature(preset)
    errors = {}
    for full_body in (False, True):
        scene.frame_current = 1
        report = apply_motion(bpy.context, obj, motion, ApplyOptions(full_body=full_body))
        bones = {**report.bone_map.mapped, **report.bone_map.extras}
        errors[full_body] = rotation_errors(obj, preset, source, motion,
                                            {j: (bones[j], DAZ[j]) for j in DAZ if j in bones},
                                            report.frame_start, report.frame_end)
    full, today = errors[True], errors[False]
    fingers = [j for j in full if j[-1].isdigit()]
    for joint in fingers + ["head", "left_wrist", "right_wrist"]:
        print(f"{preset} martial_04 {joint}: full {full[joint].mean():.2f}/{full[joint].max():.2f} deg, "
              f"today {today[joint].mean():.2f}/{today[joint].max():.2f} deg")
    assert len(fingers) == 20 and set(report.retarget.transferred) >= set(fingers)
    every = np.concatenate(list(full.values()))
    assert every.mean() <= 5.0 and every.max() <= 20.0
    for joint in fingers:
        assert full[joint].mean() <= 5.0 and full[joint].max() <= 20.0, joint
    # Without the source's rotations the fingers keep their rest pose.
    assert max(today[j].mean() for j in fingers) > 5.0


# Auto-Rig Pro: the bone whose head sits at each joint (the twist bone at the hip and shoulder, the stretch bone
# at the knee and elbow), written out here so the measure does not depend on the bone map under test.
ARP_JOINTS = {"pelvis": "root.x", "spine1": "spine_01.x", "spine2": "spine_02.x", "spine3": "spine_03.x",
              "neck": "neck.x", "head": "head.x"}
for _s, _x in (("left", "l"), ("right", "r")):
    ARP_JOINTS.update({f"{_s}_hip": f"thigh_twist.{_x}", f"{_s}_knee": f"leg_stretch.{_x}",
                       f"{_s}_ankle": f"foot.{_x}", f"{_s}_foot": f"toes_01.{_x}", f"{_s}_collar": f"shoulder.{_x}",
                       f"{_s}_shoulder": f"arm_twist.{_x}", f"{_s}_elbow": f"forearm_stretch.{_x}",
                       f"{_s}_wrist": f"hand.{_x}"})


@pytest.mark.parametrize("clip_name", ["walk_normal_001", "byebye_normal_001"])
def test_auto_rig_pro_limbs_turn_at_the_hips_and_shoulders(clean_scene, clip_name):
    """ARP's thigh_stretch/arm_stretch start mid-limb under a twist bone: keying them (the old preset) left the
    upper half of each thigh and upper arm in rest pose and the knees and elbows where the rest pose has them."""
    scene = clean_scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    obj = build_armature("auto_rig_pro")
    motion = clip(clip_name)
    report = apply_motion(bpy.context, obj, motion, ApplyOptions(foot_lock=False))
    measured = measure(obj, "auto_rig_pro", motion, ARP_JOINTS, report.frame_start, report.frame_end, 30.0)
    print(measured.line(f"auto_rig_pro {clip_name}"))
    assert measured.finite and measured.errors.mean() <= 5.0 and measured.errors.max() <= 20.0
    assert report.bone_map.mapped["left_hip"] == "thigh_twist.l"
    assert report.bone_map.mapped["right_shoulder"] == "arm_twist.r"


@pytest.mark.parametrize("preset,convention", [("cc", "character-creator"), ("vroid", "vrm"), ("manny", "unreal"),
                                               ("auto_rig_pro", "auto-rig-pro")])
def test_a_bvh_exported_from_each_rig_is_a_source(clean_scene, tmp_path, preset, convention):
    """The source side: a clip retargeted onto the rig and written by Blender's BVH exporter (the rig's own bone
    names, offsets and rolls) reads back as the clip, and drives a Mixamo rig head, wrists and fingers included."""
    from lavimo_core.motion.load import load_motion
    from lavimo_core.motion.skeleton import JOINT_INDEX
    from lavimo_core.retarget.source_pose import similarity

    scene = clean_scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    obj = build_armature(preset)
    motion = clip("walk_normal_001")
    report = apply_motion(bpy.context, obj, motion, ApplyOptions(foot_lock=False))
    bpy.context.view_layer.objects.active = obj
    path = tmp_path / f"{preset}.bvh"
    bpy.ops.export_anim.bvh(filepath=str(path), frame_start=report.frame_start, frame_end=report.frame_end)
    back = load_motion(path)
    n = min(back.num_frames, motion.num_frames)
    got, want = back.joints[:n].astype(np.float64), motion.joints[:n].astype(np.float64)
    _, rotation, _ = similarity(got.reshape(-1, 3), want.reshape(-1, 3))
    errors = []
    for a, b in (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist")):
        for side in ("left", "right"):
            d_got = (got[:, JOINT_INDEX[f"{side}_{b}"]] - got[:, JOINT_INDEX[f"{side}_{a}"]]) @ rotation.T
            d_want = want[:, JOINT_INDEX[f"{side}_{b}"]] - want[:, JOINT_INDEX[f"{side}_{a}"]]
            cos = np.sum(d_got * d_want, -1) / np.linalg.norm(d_got, axis=-1) / np.linalg.norm(d_want, axis=-1)
            errors.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    errors = np.array(errors)
    print(f"{preset} BVH read back: limb directions mean {errors.mean():.2f} max {errors.max():.2f} deg")
    assert errors.mean() <= 1.0 and errors.max() <= 5.0   # the 30 -> 20 fps resampling accounts for the rest

    target = build_armature("mixamo")
    applied = apply_motion(bpy.context, target, back)
    assert applied.retarget.source_skeleton == convention and not applied.warnings, applied.warnings
    transferred = set(applied.retarget.transferred)
    assert {"head", "left_wrist", "right_wrist", "left_foot"} <= transferred
    assert len([j for j in transferred if j[-1].isdigit()]) == 30
