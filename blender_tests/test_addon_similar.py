"""Find similar, first half: an armature's action read back into a canonical motion (no model needed).

A real Bandai-Namco clip is retargeted onto test rigs, then read back by evaluating the posed armature;
the read-back bone directions must match the clip's (proportions differ between rigs, directions not).
"""

import math

import bpy
import numpy as np
import pytest

from blender_tests.addon_setup import make_rig, real_motion, timer_driven
from lavimo_blender import bridge

# Pelvis->hip and spine->collar offsets are rigid in a rig, so their direction follows the rig's build,
# not the clip: the retarget does not (and cannot) make them match.
RIGID = {"left_hip", "right_hip", "left_collar", "right_collar"}


def read_back(obj):
    from lavimo_blender.search import action_motion

    steps = action_motion.read_steps(bpy.context, obj)
    count = 0
    while True:
        try:
            next(steps)
            count += 1
        except StopIteration as stop:
            return stop.value, count


def direction_errors(a, b):
    from lavimo_core.motion.skeleton import JOINT_NAMES, PARENTS

    t = min(len(a), len(b))

    def dirs(j):
        d = j[:t, 1:] - j[:t, list(PARENTS[1:])]
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    deg = np.degrees(np.arccos(np.clip((dirs(a) * dirs(b)).sum(-1), -1.0, 1.0)))
    return {name: deg[:, i] for i, name in enumerate(JOINT_NAMES[1:])}


@pytest.mark.parametrize("preset", ["mixamo", "rigify", "smpl"])
def test_read_back_follows_the_applied_clip(addon, preset):
    from lavimo_blender.apply.core import ApplyOptions, apply_motion

    motion = real_motion(5)
    rig = make_rig(preset)
    # The foot lock bends the legs a little to keep planted feet still (by design); read-back is measured
    # against the clip's own joints, so apply without it.
    apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False))
    bpy.context.scene.frame_set(7)
    out, _ = read_back(rig)
    assert bpy.context.scene.frame_current == 7  # evaluation put the current frame back
    assert out.name == rig.animation_data.action.name and out.fps == 20.0
    assert abs(out.num_frames - motion.num_frames) <= 1
    assert np.isfinite(out.joints).all()
    errors = direction_errors(motion.joints, out.joints)
    for joint, deg in errors.items():
        if joint not in RIGID:
            assert deg.mean() < 2.0 and deg.max() < 10.0, (joint, deg.mean(), deg.max())
    # Canonical frame: floor at y=0, starting at the origin.
    assert abs(out.joints[..., 1].min()) < 0.05
    assert np.allclose(out.joints[0, 0, [0, 2]], 0.0, atol=1e-4)


def test_read_back_is_cut_into_steps_at_the_scene_frame_rate(addon, monkeypatch):
    from lavimo_blender.apply.core import apply_motion
    from lavimo_blender.search import action_motion

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    rig = make_rig("mixamo")
    apply_motion(bpy.context, rig, real_motion(0))
    start, end = rig.animation_data.action.frame_range
    monkeypatch.setattr(action_motion, "STEP_S", 0.0)  # no time left after any frame: yield after each one
    out, steps = read_back(rig)
    assert out.num_frames == math.floor((end - start) / 30 * 20 + 1e-6) + 1  # sampled at 20 fps
    assert steps == out.num_frames


def test_find_similar_step_cancel_restores_the_frame(addon):
    from lavimo_blender.apply.core import apply_motion
    from lavimo_blender.search import action_motion

    rig = make_rig("mixamo")
    apply_motion(bpy.context, rig, real_motion(2))
    bpy.context.scene.frame_set(3)
    with timer_driven():
        job = bridge.start_steps("read", action_motion.read_steps(bpy.context, rig), pytest.fail, pytest.fail)
        bridge.drain(budget_s=0.0)  # one step: the rig is now posed at some frame of the action
        job.cancel()
        while not job.done.is_set():
            bridge.drain()
    assert bpy.context.scene.frame_current == 3
