"""Real Bandai-Namco clips applied to Mixamo-, Rigify-, SMPL-, A-pose, Unreal-, CC-, VRoid-, Manny- and
Auto-Rig Pro-like armatures in Blender.

The proof of issue 6: each mapped bone's world direction, as Blender evaluates the posed armature, follows
the source segment (mean <= 5 degrees, max <= 20); the feet go no more than 1 cm into the floor; no NaN;
a second clip gets its own action and the first one is kept.
"""

import bpy
import numpy as np
import pytest

from blender_tests.rig_fixtures import RIG_CASES, clip, measure
from lavimo_blender.apply.core import ApplyOptions, apply_motion
from lavimo_blender.apply.rig_builder import build_armature


@pytest.mark.parametrize("case_name", RIG_CASES)
def test_clips_land_on_the_rig_and_the_first_action_is_kept(clean_scene, case_name):
    case = RIG_CASES[case_name]
    scene = clean_scene
    scene.render.fps, scene.render.fps_base = case.fps
    fps = case.fps[0] / case.fps[1]
    obj = build_armature(case.preset, **case.build)
    actions = []
    for clip_name in case.clips:
        motion = clip(clip_name)
        scene.frame_current = case.frame_start
        report = apply_motion(bpy.context, obj, motion)
        assert report.action_name == motion.name and obj.animation_data.action.name == motion.name
        assert report.frame_start == case.frame_start
        assert report.frame_end - report.frame_start + 1 == int(np.floor((motion.num_frames - 1) / 20 * fps + 1e-6)) + 1
        measured = measure(obj, case.preset, motion, report.bone_map.mapped, report.frame_start,
                           report.frame_end, fps)
        print(measured.line(f"{case_name} {clip_name}"))
        assert measured.finite
        assert measured.errors.mean() <= 5.0 and measured.errors.max() <= 20.0, measured.line(case_name)
        assert measured.penetration <= 0.01, measured.line(case_name)
        assert measured.float_when_touching <= 0.02, measured.line(case_name)
        actions.append(report.action_name)
    # The second clip made a second action; the first is still there, whole, protected by a fake user.
    first, second = (bpy.data.actions[name] for name in actions)
    assert obj.animation_data.action == second and first.use_fake_user and first.users >= 1
    slot = first.slots[0]
    fcurves = first.layers[0].strips[0].channelbag(slot).fcurves
    assert len(fcurves) > 0 and all(len(fc.keyframe_points) == int(first.frame_range[1] - first.frame_range[0]) + 1
                                    for fc in fcurves)
    assert report.previous_action == first.name


def test_only_mapped_bones_are_keyed_each_in_its_rotation_mode(clean_scene):
    case = RIG_CASES["rigify_euler"]
    obj = build_armature(case.preset, **case.build)
    report = apply_motion(bpy.context, obj, clip("walk_normal_001"))
    action = obj.animation_data.action
    assert len(action.slots) == 1 and obj.animation_data.action_slot == action.slots[0]
    fcurves = action.layers[0].strips[0].channelbag(action.slots[0]).fcurves
    keyed = {}
    for fc in fcurves:
        bone = fc.data_path.split('"')[1]
        keyed.setdefault(bone, set()).add((fc.data_path.rsplit(".", 1)[1], fc.array_index))
        assert len(fc.keyframe_points) == report.frame_end - report.frame_start + 1
        assert {k.interpolation for k in fc.keyframe_points} == {"LINEAR"}
        assert fc.group is not None and fc.group.name == bone
    assert set(keyed) == set(report.bone_map.mapped.values()) == set(report.keyed_bones)
    untouched = {"DEF-thigh.L.001", "DEF-forearm.R.001", "DEF-breast.L", "DEF-pelvis.R", "DEF-spine.005"}
    assert not untouched & set(keyed)
    prop = {"QUATERNION": "rotation_quaternion", "AXIS_ANGLE": "rotation_axis_angle"}
    for bone, channels in keyed.items():
        mode = obj.pose.bones[bone].rotation_mode
        want = {(prop.get(mode, "rotation_euler"), i) for i in range(3 if mode not in prop else 4)}
        if bone == report.retarget.root_bone:
            want |= {("location", i) for i in range(3)}
        assert channels == want, bone
    assert {obj.pose.bones[b].rotation_mode for b in keyed} >= {"XYZ", "ZYX", "AXIS_ANGLE", "QUATERNION"}


def test_nla_strip_leaves_the_active_action_alone(clean_scene):
    obj = build_armature("smpl")
    first = apply_motion(bpy.context, obj, clip("walk_normal_001"))
    clean_scene.frame_current = 40
    motion = clip("bow_normal_001")
    report = apply_motion(bpy.context, obj, motion, ApplyOptions(as_nla_strip=True, foot_lock=False))
    ad = obj.animation_data
    assert ad.action.name == first.action_name and report.previous_action is None
    track = ad.nla_tracks[report.nla_track]
    strip = track.strips[0]
    assert strip.action.name == report.action_name == motion.name and strip.frame_start == 40
    assert strip.action_slot == strip.action.slots[0]
    # Without the active action, the strip alone plays the clip where it was placed.
    ad.action = None
    measured = measure(obj, "smpl", motion, report.bone_map.mapped, report.frame_start, report.frame_end,
                       clean_scene.render.fps / clean_scene.render.fps_base)
    assert measured.errors.max() <= 1.0 and measured.penetration <= 0.01


def test_in_place_root_motion_keeps_the_rig_over_its_start(clean_scene):
    obj = build_armature("mixamo")
    motion = clip("walk_normal_001")
    report = apply_motion(bpy.context, obj, motion, ApplyOptions(root_motion="in_place"))
    from blender_tests.rig_fixtures import evaluate

    heads, _ = evaluate(obj, range(report.frame_start, report.frame_end + 1))
    hips = heads[:, [b.name for b in obj.data.bones].index("mixamorig:Hips")]
    assert np.abs(hips[:, :2] - hips[0, :2]).max() < 1e-4       # world X/Y (the ground) stay put
    assert np.ptp(hips[:, 2]) > 0.01                               # the body still bobs up and down
