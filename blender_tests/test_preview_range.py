"""Preview a hit on the rig without touching the user's animation; Apply a range with handles at the chosen start."""

import bpy
import numpy as np
import pytest

from blender_tests.addon_setup import fingerprint, make_rig
from blender_tests.rig_fixtures import clip, scene_state


def _keyed_action(name: str, obj, bone: str, frames, value: float):
    """A user's action with keys on one bone, in the layered (slotted) form both Blender versions use."""
    from lavimo_blender.apply.keyframes import Channel, new_action, write_channels

    action, slot, bag = new_action(name, obj.name)
    path = f'pose.bones["{bone}"].location'
    write_channels(bag, [Channel(path, 0, bone, np.full(len(frames), value))], np.asarray(frames, float))
    return action, slot


def _fcurves(action):
    return [fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves]


@pytest.fixture
def user_scene(addon):
    """A rig with the user's own animation: an active action, an NLA track of another, frame 7, no preview range."""
    rig = make_rig("mixamo")
    bone = rig.pose.bones[0].name
    walk, slot = _keyed_action("UserWalk", rig, bone, [1, 20], 0.3)
    idle, _ = _keyed_action("UserIdle", rig, bone, [1, 10], -0.2)
    anim = rig.animation_data_create()
    anim.action = walk
    if anim.action_slot != slot:
        anim.action_slot = slot
    track = anim.nla_tracks.new()
    track.name = "UserTrack"
    track.strips.new("UserIdle", 30, idle)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    scene.frame_set(7)
    return rig


def _user_state(rig) -> dict:
    """Everything of the user's a preview could touch: actions and their keys, fake users, the rig's animation
    (active action, slot, NLA tracks and strips), the pose, the current frame and the preview range."""
    scene = bpy.context.scene
    out = fingerprint()
    out["actions"] = {a.name: (a.use_fake_user, a.users, [(fc.data_path, fc.array_index, [tuple(k.co) for k in
                      fc.keyframe_points]) for fc in _fcurves(a)]) for a in bpy.data.actions}
    anim = rig.animation_data
    out["slot"] = anim.action_slot.identifier if anim.action_slot else None
    out["nla"] = [(t.name, t.mute, t.is_solo, [(s.name, s.action.name, s.frame_start, s.frame_end) for s in t.strips])
                  for t in anim.nla_tracks]
    out["preview_range"] = (scene.use_preview_range, scene.frame_preview_start, scene.frame_preview_end)
    return out


def _start(rig, name: str = "bow_normal_001", range_s=None, store: str = "/nowhere"):
    from lavimo_blender.search import preview
    from lavimo_blender.search.props import state

    s = state()
    s.results.clear()
    for motion_id in (f"dataset-1_{name}", "dataset-1_walk_normal_001"):
        item = s.results.add()
        item.name, item.motion_id, item.store_path, item.duration = motion_id, motion_id, store, 20.0
    s.result_index = 0
    return preview.start(bpy.context, rig, clip(name), preview.result_key(s.results[0]), range_s)


@pytest.mark.parametrize("trigger", ["result", "object", "toggle", "panel"])
def test_preview_plays_on_the_rig_and_leaves_the_users_animation_exactly_as_it_was(user_scene, trigger, monkeypatch):
    from lavimo_blender.search import preview
    from lavimo_blender.search.props import state

    rig = user_scene
    if trigger == "object":
        other = bpy.data.objects.new("Other", None)
        bpy.context.scene.collection.objects.link(other)
        bpy.context.view_layer.objects.active = rig
    before = _user_state(rig)
    # "toggle" previews through the panel's switch, which reads the hit's motion from its store: here the
    # real clip. (Opening the real test store in this test made Blender 4.5's bpy hang at interpreter exit,
    # reproduced with only the add-on enabled and Store.open, no preview; not investigated here.)
    from lavimo_blender import engine_session
    monkeypatch.setattr(engine_session, "store_for", lambda path: type("S", (), {"motion": lambda self, i: clip(i[10:])})())
    text = _start(rig, range_s=(1.0, 3.0))
    temp = rig.animation_data.action
    assert temp.get(preview.MARK) and temp.name not in before["actions"] and "Previewing" in text
    scene = bpy.context.scene
    assert scene.use_preview_range and scene.frame_preview_start == 7  # the range starts at the current frame
    assert scene.frame_preview_end == 7 + 60  # 2.0 s at 30 fps
    assert not bpy.data.actions["UserWalk"].use_fake_user  # Apply's fake user is not left on the user's action

    if trigger == "result":
        state().result_index = 1
    elif trigger == "object":
        bpy.context.view_layer.objects.active = other
        before["active"] = "Other"  # the user's own change
    elif trigger == "panel":
        preview.panel_drawn()
        preview._panel_drawn_at -= 10 * preview.PANEL_GONE_S  # as if nothing had drawn the panel since
    if trigger == "toggle":
        state().results[0].range_start, state().results[0].range_end = 1.0, 3.0
        state().preview = True  # switching it on previews the selection (the same hit, again); off ends it
        assert preview.active_key() is not None, preview.message
        assert bpy.context.scene.frame_preview_end == 7 + 60
        state().preview = False
        reason = "off"
    else:
        reason = preview.check(bpy.context)
        assert reason.endswith("preview removed")
    assert preview.active_key() is None and reason
    assert not any(a.get(preview.MARK) for a in bpy.data.actions)
    assert _user_state(rig) == before


def test_armature_deleted_while_previewing_leaves_nothing_behind(user_scene):
    from lavimo_blender.search import preview

    rig = user_scene
    actions_before = sorted(a.name for a in bpy.data.actions)
    _start(rig)
    assert bpy.context.scene.use_preview_range
    bpy.data.objects.remove(rig)
    reason = preview.check(bpy.context)
    assert reason == "armature 'mixamo' was deleted while previewing; preview removed" or "deleted" in reason
    assert preview.message == reason and preview.active_key() is None
    assert sorted(a.name for a in bpy.data.actions) == actions_before  # the temporary action is gone
    scene = bpy.context.scene
    assert scene.frame_current == 7 and not scene.use_preview_range


def test_preview_of_a_mesh_is_refused_clearly_and_changes_nothing(user_scene):
    from lavimo_blender.search import preview
    from lavimo_blender.search.props import state

    bpy.ops.mesh.primitive_cube_add()
    before = fingerprint()
    s = state()
    item = s.results.add()
    item.name, item.motion_id, item.store_path = "x", "x", "/no/such/store"
    s.result_index = len(s.results) - 1
    message = preview.preview_selected(bpy.context)  # no exception: a message for the panel
    assert message.startswith("Cannot preview x:") and preview.active_key() is None
    with pytest.raises(Exception, match="is a mesh, not an armature"):
        preview.start(bpy.context, bpy.context.active_object, clip("bow_normal_001"), ("k",))
    assert fingerprint() == before and preview.active_key() is None


def _keyed_range(action) -> tuple[float, float]:
    frames = [k.co[0] for fc in _fcurves(action) for k in fc.keyframe_points]
    return min(frames), max(frames)


def _local_rotations(action, bone: str, frames) -> np.ndarray:
    fcs = sorted((fc for fc in _fcurves(action) if fc.data_path == f'pose.bones["{bone}"].rotation_quaternion'),
                 key=lambda fc: fc.array_index)
    return np.array([[fc.evaluate(f) for fc in fcs] for f in frames])


@pytest.mark.parametrize("handles", [0, 6])
def test_apply_of_a_range_keys_exactly_that_range_at_the_chosen_start(user_scene, handles):
    from lavimo_blender.apply.core import ApplyOptions, apply_motion

    rig = user_scene
    motion = clip("walk_normal_001")
    whole = apply_motion(bpy.context, rig, motion, ApplyOptions(frame_start=100, as_nla_strip=True))
    part = apply_motion(bpy.context, rig, motion, ApplyOptions(frame_start=10, range_s=(1.0, 2.5), handles=handles,
                                                               as_nla_strip=True))
    cut = bpy.data.actions[part.action_name]
    assert _keyed_range(cut) == (10 - handles, 10 + 45 + handles)  # 1.5 s at 30 fps, + handles on both sides
    assert (part.frame_start, part.frame_end) == (10 - handles, 10 + 45 + handles)
    # The range's poses: a limb's local rotation at frame 10 + i is the whole clip's at 1.0 s + i.
    full = bpy.data.actions[whole.action_name]
    bone = "mixamorig:LeftForeArm"
    got = _local_rotations(cut, bone, 10 + np.arange(5, 40))
    want = _local_rotations(full, bone, 100 + 30 + np.arange(5, 40))
    dots = np.abs(np.sum(got * want, axis=1)) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert np.degrees(2 * np.arccos(np.clip(dots, -1, 1))).max() < 2.0


def test_apply_of_a_range_outside_the_clip_is_refused_and_changes_nothing(user_scene):
    from lavimo_blender.apply.core import ApplyOptions, apply_motion
    from lavimo_core.retarget.trim import RangeError

    rig = user_scene
    before = scene_state(rig)
    with pytest.raises(RangeError, match=r"range 4.00–99.00 s lies outside 'dataset-1_walk_normal_001' \(0.00–"):
        apply_motion(bpy.context, rig, clip("walk_normal_001"), ApplyOptions(range_s=(4.0, 99.0)))
    assert scene_state(rig) == before


def test_apply_options_take_a_results_range_only_when_it_is_a_moment(addon):
    from lavimo_blender.apply.ops import apply_options
    from lavimo_blender.search.props import state

    s = state()
    moment, whole = s.results.add(), s.results.add()
    moment.duration, moment.range_start, moment.range_end = 30.0, 12.4, 15.1
    whole.duration, whole.range_start, whole.range_end = 3.0, 0.0, 3.0
    bpy.context.scene.lavimo_apply.handles = 5
    options = apply_options(bpy.context.scene, moment)
    assert options.range_s == pytest.approx((12.4, 15.1)) and options.handles == 5
    assert apply_options(bpy.context.scene, whole).range_s is None


def test_the_list_carries_each_hits_range_and_draws_it(addon):
    from blender_tests.addon_setup import RecordingLayout
    from lavimo_blender.search import results, ui
    from lavimo_blender.search.props import has_range, state
    from lavimo_core.store import Hit

    moment = Hit("take_012", "take_012", 0.6, 0.7, 60.0, ["a person bows"], {}, "", start=12.4, end=15.1)
    clip_hit = Hit("bow_001", "bow_001", 0.5, 0.6, 3.0, ["a person bows"], {}, "", start=0.0, end=3.0)
    s = state()
    results.fill(s, [moment, clip_hit], "/store", "Text: a person bows", no_match=False)
    assert has_range(s.results[0]) and (s.results[0].range_start, s.results[0].range_end) == pytest.approx((12.4, 15.1))
    assert not has_range(s.results[1])
    assert ui.range_text(s.results[0]) == "12.4–15.1 s" and ui.range_text(s.results[1]) == "3.0 s"
    layout = RecordingLayout()
    ui.draw_timeline(layout, s.results[0])  # checked against the real UILayout API
    assert any(kw.get("text") == "12.4–15.1 s" for name, _, kw in layout.log if name == "label")
