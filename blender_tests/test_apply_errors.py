"""Bad input to apply_motion: a clear LavimoError, and nothing in the scene changed."""

import bpy
import numpy as np
import pytest

from blender_tests.rig_fixtures import clip, scene_state
from lavimo_blender.apply.core import ApplyError, ApplyOptions, apply_motion
from lavimo_blender.apply.rig_builder import build_armature
from lavimo_core.errors import LavimoError
from lavimo_core.motion.motion import Motion
from lavimo_core.retarget import BoneMapError, EmptyMotionError


@pytest.fixture
def rig_with_history(clean_scene):
    """A Mixamo-like rig that already has an action (the user's work) and a posed bone."""
    obj = build_armature("mixamo")
    apply_motion(bpy.context, obj, clip("walk_normal_001"))
    obj.pose.bones["mixamorig:LeftHandIndex1"].rotation_quaternion = (0.9, 0.1, 0.2, 0.3)
    return obj


def test_no_armature(rig_with_history):
    before = scene_state(rig_with_history)
    with pytest.raises(ApplyError, match="No armature selected"):
        apply_motion(bpy.context, None, clip("bow_normal_001"))
    assert scene_state(rig_with_history) == before


def test_a_mesh_points_to_its_armature(rig_with_history):
    mesh = bpy.data.objects.new("Body", bpy.data.meshes.new("Body"))
    bpy.context.scene.collection.objects.link(mesh)
    mesh.modifiers.new("Armature", "ARMATURE").object = rig_with_history
    before = scene_state(rig_with_history)
    with pytest.raises(ApplyError, match="'Body' is a mesh, not an armature: select its armature 'mixamo'"):
        apply_motion(bpy.context, mesh, clip("bow_normal_001"))
    assert scene_state(rig_with_history) == before and mesh.animation_data is None


def test_too_few_bones_names_the_missing_joints(rig_with_history):
    odd = build_armature("smpl", name="odd")
    for bone in odd.data.bones:
        if "knee" in bone.name or "elbow" in bone.name:
            bone.name = bone.name.replace("knee", "shin").replace("elbow", "forearm")
    before = scene_state(odd), scene_state(rig_with_history)
    with pytest.raises(BoneMapError) as err:
        apply_motion(bpy.context, odd, clip("bow_normal_001"))
    for joint in ("left_knee", "right_knee", "left_elbow", "right_elbow"):
        assert joint in str(err.value)
    assert isinstance(err.value, LavimoError)
    assert (scene_state(odd), scene_state(rig_with_history)) == before


def test_a_motion_without_frames(rig_with_history):
    before = scene_state(rig_with_history)
    with pytest.raises(EmptyMotionError, match="'empty' has no frames"):
        apply_motion(bpy.context, rig_with_history, Motion("empty", np.zeros((0, 22, 3))))
    assert scene_state(rig_with_history) == before


def test_a_bad_override(rig_with_history):
    before = scene_state(rig_with_history)
    with pytest.raises(BoneMapError, match="'NoSuchBone'"):
        apply_motion(bpy.context, rig_with_history, clip("bow_normal_001"),
                     ApplyOptions(bone_map_overrides={"head": "NoSuchBone"}))
    assert scene_state(rig_with_history) == before


def test_nla_tweak_mode(rig_with_history):
    ad = rig_with_history.animation_data
    ad.nla_tracks.new().strips.new("held", 1, ad.action)
    ad.use_tweak_mode = True
    assert ad.use_tweak_mode
    before = scene_state(rig_with_history)
    with pytest.raises(ApplyError, match="tweak mode"):
        apply_motion(bpy.context, rig_with_history, clip("bow_normal_001"))
    assert scene_state(rig_with_history) == before


@pytest.mark.parametrize("as_nla_strip", [False, True])
def test_a_failure_while_writing_rolls_everything_back(rig_with_history, monkeypatch, as_nla_strip):
    import lavimo_blender.apply.core as core

    def broken(channelbag, channels, frames):
        channelbag.fcurves.new(channels[0].data_path, index=0)
        raise RuntimeError("disk full")

    before = scene_state(rig_with_history)
    monkeypatch.setattr(core, "write_channels", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        apply_motion(bpy.context, rig_with_history, clip("bow_normal_001"), ApplyOptions(as_nla_strip=as_nla_strip))
    assert scene_state(rig_with_history) == before
    # An armature without animation data gets none.
    fresh = build_armature("smpl", name="fresh")
    with pytest.raises(RuntimeError, match="disk full"):
        apply_motion(bpy.context, fresh, clip("bow_normal_001"))
    assert fresh.animation_data is None and scene_state(rig_with_history)["actions"] == before["actions"]


def test_edit_mode(rig_with_history):
    bpy.context.view_layer.objects.active = rig_with_history
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        before = scene_state(rig_with_history)
        with pytest.raises(ApplyError, match="Edit Mode"):
            apply_motion(bpy.context, rig_with_history, clip("bow_normal_001"))
        assert scene_state(rig_with_history) == before
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")


def test_non_uniform_scale_is_refused_and_named(rig_with_history):
    rig_with_history.scale = (0.01, 0.02, 0.01)
    bpy.context.view_layer.update()
    before = scene_state(rig_with_history)
    with pytest.raises(ApplyError, match=r"non-uniform scale \(0\.01, 0\.02, 0\.01\).*Apply > Scale.*Nothing was keyed"):
        apply_motion(bpy.context, rig_with_history, clip("bow_normal_001"))
    assert scene_state(rig_with_history) == before


def test_a_generated_rig_without_arms_names_what_is_missing(rigify_scene):
    rig, _ = rigify_scene
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    for bone in [b for b in rig.data.edit_bones if "upper_arm" in b.name or "forearm" in b.name]:
        rig.data.edit_bones.remove(bone)
    bpy.ops.object.mode_set(mode="OBJECT")
    before = scene_state(rig)
    with pytest.raises(BoneMapError, match="left_shoulder.*left_elbow"):
        apply_motion(bpy.context, rig, clip("bow_normal_001"))
    assert scene_state(rig) == before
