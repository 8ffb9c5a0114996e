"""Planted feet in Blender: where the source's feet are planted, the evaluated rig's feet stay still, on the
floor and out of it (Mixamo-like FBX rig, A-pose rig, a generated Rigify rig, CC-, VRoid-, Manny- and Auto-Rig
Pro-like rigs); the lock can be turned off.
"""

import bpy
import numpy as np
import pytest

from blender_tests.rig_fixtures import clip, evaluate, source_at_frames
from lavimo_blender.apply.core import ApplyOptions, apply_motion
from lavimo_blender.apply.rig_builder import build_armature
from lavimo_core.retarget.contacts import contact_segments, detect_contacts
from lavimo_core.retarget.rig_presets import rig_preset

FEET = {"mixamo": ("mixamorig:LeftFoot", "mixamorig:RightFoot"), "apose": ("Foot_L", "Foot_R"),
        "rigify": ("DEF-foot.L", "DEF-foot.R"), "cc": ("CC_Base_L_Foot", "CC_Base_R_Foot"),
        "vroid": ("J_Bip_L_Foot", "J_Bip_R_Foot"), "manny": ("foot_l", "foot_r"),
        "auto_rig_pro": ("foot.l", "foot.r")}


def _feet(obj, preset, motion, report, fps):
    """Per contact: slide of the foot's planted point (of the foot bones' heads and tails, the one that stays nearest
    its mean spot: the ball of a foot rolling off its toes, the ankle of a flat one) and float (character metres);
    lowest foot point over the clip; per contact, the ankle's own slide (it rolls with the foot about the ball)."""
    frames = np.arange(report.frame_start, report.frame_end + 1)
    heads, tails = evaluate(obj, frames)
    planted = detect_contacts(source_at_frames(motion, frames, report.frame_start, fps), fps)
    world = np.array(obj.matrix_world, dtype=np.float64)
    up = world[:3, :3] @ np.array(rig_preset(preset).up)
    metre = np.linalg.norm(up) * rig_preset(preset).units_per_metre
    up = up / np.linalg.norm(up)
    names = [b.name for b in obj.data.bones]
    slides, floats, lows, ankles = [], [], [], []
    for k, foot in enumerate(FEET[preset]):
        bone = obj.data.bones[foot]
        bones = [names.index(b.name) for b in [bone, *bone.children_recursive] if b.use_deform or preset != "rigify"]
        rest = np.array([p for i in bones for p in (obj.data.bones[i].head_local, obj.data.bones[i].tail_local)])
        floor = ((rest @ world[:3, :3].T + world[:3, 3]) @ up).min()
        points = np.concatenate([heads[:, bones], tails[:, bones]], axis=1)   # the ankle (foot's head) first
        low = (points @ up).min(axis=1) - floor
        lows.append(low.min() / metre)
        for a, b in contact_segments(planted[:, k]):
            flat = points[a:b] - (points[a:b] @ up)[..., None] * up
            wander = np.linalg.norm(flat - flat.mean(0), axis=-1).max(0) / metre
            slides.append(wander.min())
            ankles.append(wander[0])
            floats.append(low[a:b].max() / metre)
    return np.array(slides), np.array(floats), min(lows), np.array(ankles)


@pytest.mark.parametrize("preset,clip_name", [("mixamo", "walk_normal_001"), ("apose", "kick_normal_001"),
                                              ("rigify", "walk_normal_001"), ("cc", "walk_normal_001"),
                                              ("vroid", "walk-right_normal_001"), ("manny", "walk-left_normal_001"),
                                              ("auto_rig_pro", "kick_normal_001")])
def test_planted_feet_stay_still_on_the_floor(request, preset, clip_name):
    if preset == "rigify":
        obj, _ = request.getfixturevalue("rigify_scene")
    else:
        request.getfixturevalue("clean_scene")
        obj = build_armature(preset)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    motion = clip(clip_name)
    figures = {}
    for lock in (False, True):
        scene.frame_current = 1
        report = apply_motion(bpy.context, obj, motion, ApplyOptions(foot_lock=lock))
        figures[lock] = _feet(obj, preset, motion, report, 30.0)
        slide, float_, low, ankle = figures[lock]
        print(f"{preset} {clip_name} lock={lock}: {len(slide)} contacts, planted point's slide mean "
              f"{100 * slide.mean():.2f} cm max {100 * slide.max():.2f} cm (the ankle's mean {100 * ankle.mean():.2f} "
              f"cm), float max {100 * float_.max():.2f} cm, penetration {100 * max(0.0, -low):.2f} cm")
    slide, float_, low, _ = figures[True]
    assert report.retarget.contacts >= 3 and len(slide) >= 3
    assert slide.mean() <= 0.01 and float_.max() <= 0.005 and low >= -1e-4
    assert figures[False][0].mean() > 2 * slide.mean()   # today's solve slides more
