"""Every bad input: an ERROR report that says what to do, and nothing changed in the scene."""

from pathlib import Path

import bpy
import pytest

from blender_tests.addon_setup import fingerprint, make_rig, prefs

pytestmark = pytest.mark.slow  # needs the trained test model and store


def expect_error(call, pattern, **kwargs):
    """`call` must raise the operator's ERROR report matching `pattern` and leave the scene as it was."""
    before = fingerprint()
    with pytest.raises(RuntimeError, match=pattern):
        call(**kwargs)
    assert fingerprint() == before


@pytest.fixture
def scene_with_rig(ready_addon):
    rig = make_rig("mixamo")
    rig.animation_data_create().action = bpy.data.actions.new("take")
    return rig


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt(scene_with_rig, prompt):
    bpy.context.window_manager.lavimo.prompt = prompt
    expect_error(bpy.ops.lavimo.search_text, "The prompt is empty: describe the motion")


@pytest.mark.parametrize("make, pattern", [
    (lambda d: "", "No video chosen"),
    (lambda d: str(d / "missing.mp4"), "Video not found"),
    (lambda d: (d / "notes.txt").write_text("hi") and str(d / "notes.txt"), "Not a video file LAVIMO reads"),
    (lambda d: (d / "garbage.mp4").write_bytes(b"\x13\x37" * 4000) and str(d / "garbage.mp4"),
     "not a video file that can be read"),
    (lambda d: (d / "empty.mov").write_bytes(b"") or str(d / "empty.mov"), "is empty"),
])
def test_unreadable_video(scene_with_rig, tmp_path, make, pattern):
    path = make(tmp_path)
    bpy.context.window_manager.lavimo.video_path = path
    expect_error(bpy.ops.lavimo.search_video, pattern)
    if path:
        expect_error(bpy.ops.lavimo.drop_video, pattern, filepath=path)


def test_truncated_video(scene_with_rig, tmp_path):
    from blender_tests.addon_setup import real_motion
    from lavimo_core.synthesis.render import Camera, write_video

    video = write_video(tmp_path / "full.mp4", real_motion(0), Camera(size=(160, 120)), fps=10.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    expect_error(bpy.ops.lavimo.search_video, r"corrupt|could not be|no frames|no person", filepath=str(cut))


def test_store_missing(scene_with_rig, tmp_path):
    prefs().stores[0].path = str(tmp_path / "no_store_here")
    bpy.context.window_manager.lavimo.prompt = "a person waves"
    expect_error(bpy.ops.lavimo.search_text, r"store not found: .*no_store_here.*Preferences")


def test_no_store_configured(scene_with_rig):
    prefs().stores.clear()
    bpy.context.window_manager.lavimo.prompt = "a person waves"
    expect_error(bpy.ops.lavimo.search_text, "no store is set")


def test_model_missing(scene_with_rig, tmp_path):
    prefs().model_path = str(tmp_path)
    bpy.context.window_manager.lavimo.prompt = "a person waves"
    expect_error(bpy.ops.lavimo.search_text, r"model not found: .*config\.json")


def test_device_this_torch_cannot_use(scene_with_rig):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    prefs().device = 'cuda'
    bpy.context.window_manager.lavimo.prompt = "a person waves"
    expect_error(bpy.ops.lavimo.search_text, "Device is set to CUDA.*set Preferences > Add-ons > LAVIMO > Device to CPU")


def test_store_of_another_model_is_refused(scene_with_rig, tmp_path, trained_model):
    # A store whose manifest names other weights: opening it with our model must be refused, clearly.
    import json
    import shutil

    store = tmp_path / "other_store"
    shutil.copytree(prefs().stores[0].path, store)
    manifest = json.loads((store / "store.json").read_text())
    manifest["model"]["weights_hash"] = "0" * 64
    (store / "store.json").write_text(json.dumps(manifest))
    prefs().stores[0].path = str(store)
    bpy.context.window_manager.lavimo.prompt = "a person waves"
    expect_error(bpy.ops.lavimo.search_text, r"was built with model .* their embeddings are not comparable")


def test_apply_without_results(scene_with_rig):
    bpy.context.window_manager.lavimo.results.clear()
    expect_error(bpy.ops.lavimo.apply, "No results to apply: search first")


@pytest.fixture
def with_results(scene_with_rig):
    bpy.context.window_manager.lavimo.prompt = "a person walks"
    assert bpy.ops.lavimo.search_text() == {'FINISHED'}
    return scene_with_rig


def test_apply_with_no_armature(with_results):
    bpy.context.view_layer.objects.active = None
    expect_error(bpy.ops.lavimo.apply, "No armature selected")


def test_apply_to_a_mesh(with_results):
    mesh = bpy.data.objects.new("Body", bpy.data.meshes.new("Body"))
    bpy.context.scene.collection.objects.link(mesh)
    bpy.context.view_layer.objects.active = mesh
    expect_error(bpy.ops.lavimo.apply, "'Body' is a mesh, not an armature")


def test_apply_with_a_wrong_bone_override(with_results):
    bpy.ops.lavimo.detect_bones()
    items = bpy.context.scene.lavimo_apply.bone_overrides
    next(i for i in items if i.name == "pelvis").bone = "NoSuchBone"
    expect_error(bpy.ops.lavimo.apply, "no bone.*NoSuchBone")


def test_apply_to_a_rig_without_recognisable_bones(with_results):
    arm = bpy.data.armatures.new("Blob")
    obj = bpy.data.objects.new("Blob", arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode='EDIT')
    bone = arm.edit_bones.new("thing")
    bone.tail = (0, 0, 1)
    bpy.ops.object.mode_set(mode='OBJECT')
    expect_error(bpy.ops.lavimo.apply, "too few bones.*Missing canonical joints")


def test_find_similar_bad_targets(scene_with_rig):
    bpy.context.view_layer.objects.active = None
    expect_error(bpy.ops.lavimo.find_similar, "nothing is active")
    rig = make_rig("rigify")
    bpy.context.view_layer.objects.active = rig
    expect_error(bpy.ops.lavimo.find_similar, "has no current action")
    scene_with_rig.animation_data.action = bpy.data.actions.new("still")
    bpy.context.view_layer.objects.active = scene_with_rig
    expect_error(bpy.ops.lavimo.find_similar, "at least two frames")


@pytest.mark.parametrize("folder, pattern", [("", "No folder chosen"), ("/no/such/folder", "Folder not found")])
def test_index_bad_folder(scene_with_rig, folder, pattern):
    bpy.context.window_manager.lavimo_library.folder = folder
    expect_error(bpy.ops.lavimo.index_folder, pattern)


def test_index_folder_without_bvh(scene_with_rig, tmp_path):
    (tmp_path / "readme.txt").write_text("no motions here")
    bpy.context.window_manager.lavimo_library.folder = str(tmp_path)
    expect_error(bpy.ops.lavimo.index_folder, "No .bvh files")
    assert not (Path(tmp_path) / "lavimo_store").exists()
