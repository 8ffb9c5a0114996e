"""Foot contacts: detection on real clips, and the lock that keeps planted feet still and on the floor."""

import numpy as np
import pytest

from lavimo_core.motion.motion import Motion
from lavimo_core.retarget import RetargetOptions, detect_bone_map, solve
from lavimo_core.retarget.contacts import contact_segments, detect_contacts, detect_hand_contacts, two_bone_ik
from lavimo_core.retarget.rig_presets import preset_rig, rig_preset
from lavimo_core.retarget.solve import CHILD


def _feet(rig, bone_map, result, pose, planted):
    """Per contact: slide of the foot's planted point (of the foot bones' heads and tails, the one that stays
    nearest its mean spot: the ball of a foot rolling off its toes, the ankle of a flat one; its max distance from
    that spot) and float (highest lowest-foot point); the lowest foot point over the clip; per contact, the ankle's
    own slide (it rolls with the foot about the ball), all in the character's metres."""
    up, floor = result.placement.up, result.placement.floor
    metre = rig_preset(rig.name).units_per_metre
    slides, floats, lowest, ankles = [], [], [], []
    for k, side in enumerate(("left", "right")):
        ankle = rig.index(bone_map.joints[f"{side}_ankle"])
        bones = [ankle] + rig.descendants(ankle)
        posed = pose[:, bones]
        rest_inv = np.linalg.inv(rig.rest_matrices[bones])
        tails = np.einsum("tkij,kj->tki", posed @ rest_inv, np.concatenate([rig.tails[bones], np.ones((len(bones), 1))], 1))
        points = np.concatenate([posed[..., :3, 3], tails[..., :3]], 1)
        low = (points @ up).min(1) - floor
        lowest.append(low)
        for a, b in contact_segments(planted[:, k]):
            flat = points[a:b] - (points[a:b] @ up)[..., None] * up
            wander = np.linalg.norm(flat - flat.mean(0), axis=-1).max(0) / metre
            slides.append(wander.min())
            ankles.append(wander[0])
            floats.append(low[a:b].max() / metre)
    return np.array(slides), np.array(floats), min(map(np.min, lowest)) / metre, np.array(ankles)


def test_walking_feet_take_turns(bandai_motions):
    walk = bandai_motions["walk_normal_001"].joints
    planted = detect_contacts(walk, 20.0)
    left, right = (contact_segments(planted[:, k]) for k in range(2))
    assert len(left) >= 3 and len(right) >= 3
    assert planted.any(axis=1).mean() > 0.8   # walking: almost always a foot on the floor
    # A still pose: both feet planted throughout.
    still = Motion("still", np.repeat(walk[:1], 30, 0)).joints
    assert detect_contacts(still, 20.0).all()


def test_the_one_hand_on_the_floor_is_found_and_nothing_else(bandai_motions):
    """Bandai-Namco-1's dance-short_normal_001 leans on the right hand at 41.4 s; walking, bowing, kicking and
    waving clips put no hand on the floor."""
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset

    dance = load_motion(find_dataset("bandai-namco-1") / "data" / "dataset-1_dance-short_normal_001.bvh")
    on = detect_hand_contacts(dance.joints, dance.fps)
    assert contact_segments(on[:, 0]) == [] and len(contact_segments(on[:, 1])) == 1
    start, stop = contact_segments(on[:, 1])[0]
    assert 41.0 < start / dance.fps < 41.8 and stop > start
    for motion in bandai_motions.values():
        assert not detect_hand_contacts(motion.joints, motion.fps).any(), motion.name


@pytest.mark.parametrize("preset,clip", [("mixamo", "walk_normal_001"), ("apose", "walk-back_normal_001"),
                                         ("smpl", "kick_normal_001"), ("unreal", "walk_normal_001")])
def test_planted_feet_stay_put_on_the_floor(bandai_motions, posed, segment_errors, preset, clip):
    motion = bandai_motions[clip]
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    locked = solve(motion, rig, bone_map, RetargetOptions(fps=30))
    today = solve(motion, rig, bone_map, RetargetOptions(fps=30, foot_lock=False))
    planted = detect_contacts(locked.source_joints, 30.0)
    slide, float_, low, ankle = _feet(rig, bone_map, locked, posed(rig, locked), planted)
    slide0, float0, low0, ankle0 = _feet(rig, bone_map, today, posed(rig, today), planted)
    print(f"{preset} {clip}: {len(slide)} contacts; planted point's slide mean {100 * slide.mean():.2f} cm (today "
          f"{100 * slide0.mean():.2f}; the ankle's {100 * ankle.mean():.2f}, today {100 * ankle0.mean():.2f}), float max "
          f"{100 * float_.max():.2f} cm (today {100 * float0.max():.2f}), penetration {100 * max(0, -low):.2f} cm "
          f"(today {100 * max(0, -low0):.2f})")
    assert locked.report.contacts == len(slide) > 0
    assert slide.mean() <= 0.01 and float_.max() <= 0.005 and low >= -1e-5
    assert slide0.mean() > slide.mean()
    # The rest of the body still follows the source.
    errors = segment_errors(rig, bone_map, locked, posed(rig, locked))
    assert errors.mean() <= 5.0


def test_two_bone_ik_reaches_and_keeps_the_knee_side():
    hip, knee, ankle = np.zeros((1, 3)), np.array([[0.0, -0.45, 0.05]]), np.array([[0.0, -0.9, 0.0]])
    target = np.array([[0.1, -0.8, 0.1]])
    thigh, shin = two_bone_ik(hip, knee, ankle, target, (float(np.linalg.norm(knee)), float(np.linalg.norm(ankle - knee))))
    new_knee = hip + np.einsum("tij,tj->ti", thigh, knee - hip)
    new_ankle = new_knee + np.einsum("tij,tj->ti", shin @ thigh, ankle - knee)
    np.testing.assert_allclose(new_ankle, target, atol=1e-9)
    assert new_knee[0, 2] > 0   # the knee still bends forward


def _hand_lowest(rig, bone_map, result, pose):
    """Lowest point (T,) of either hand (wrist bone and below) over the floor, in the character's metres."""
    up, floor, lows = result.placement.up, result.placement.floor, []
    for side in ("left", "right"):
        wrist = rig.index(bone_map.joints[f"{side}_wrist"])
        bones = [wrist] + rig.descendants(wrist)
        posed = pose[:, bones]
        ends = np.concatenate([rig.tails[bones], np.ones((len(bones), 1))], 1)
        tails = np.einsum("tkij,kj->tki", posed @ np.linalg.inv(rig.rest_matrices[bones]), ends)[..., :3]
        lows.append((np.concatenate([posed[..., :3, 3], tails], 1) @ up).min(1) - floor)
    return np.minimum(*lows) / rig_preset(rig.name).units_per_metre


def _points_at_mapped(joint, mapped):
    """Whether a mapped joint's bone points at another mapped joint (the segments segment_errors measures)."""
    child = CHILD.get(joint)
    while child is not None and child not in mapped:
        child = CHILD.get(child)
    return child is not None


@pytest.mark.parametrize("preset", ["manny", "auto_rig_pro", "mixamo"])
def test_a_hand_longer_than_the_sources_tips_up_instead_of_poking_into_the_floor(posed, segment_errors, preset):
    """Around the dancer's hand on the floor (dance-short_normal_001, 39.5-43.5 s), these rigs' hands (fingers the
    source has not) go up to 5 cm into the floor unlocked. Locked, they stay out of it at every frame, tipped up at
    the wrist: the arm stays within a few degrees of its unlocked directions (lifting the wrist by the arm alone bent
    it 10-17 degrees further from the source's)."""
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset
    from lavimo_core.retarget.source_pose import source_pose
    from lavimo_core.retarget.trim import cut_range, cut_source_pose

    whole = load_motion(find_dataset("bandai-namco-1") / "data" / "dataset-1_dance-short_normal_001.bvh")
    motion, first, _ = cut_range(whole, (39.5, 43.5), 0, 30.0)
    source = cut_source_pose(source_pose(whole, 30.0)[0], whole, motion, first, 30.0)
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    rows = [j for j in bone_map.joints if _points_at_mapped(j, bone_map.joints)]   # segment_errors' rows
    arm = [rows.index("right_shoulder"), rows.index("right_elbow")]
    figures = {}
    for lock in (False, True):
        result = solve(motion, rig, bone_map, RetargetOptions(fps=30, hand_lock=lock), source)
        pose = posed(rig, result)
        figures[lock] = (_hand_lowest(rig, bone_map, result, pose), segment_errors(rig, bone_map, result, pose)[arm])
    (low0, arm0), (low, arm1) = figures[False], figures[True]
    print(f"{preset} dance-short: hand into the floor {100 * max(0, -low.min()):.2f} cm (unlocked "
          f"{100 * max(0, -low0.min()):.2f}); right arm off the source max {arm1.max():.1f} deg (unlocked "
          f"{arm0.max():.1f}), most added at a frame {np.abs(arm1 - arm0).max():.1f} deg")
    assert low0.min() < -0.01 and low.min() >= -1e-5
    assert np.abs(arm1 - arm0).max() <= 6.0


@pytest.mark.parametrize("preset", ["mixamo", "apose", "cc", "rigify"])
def test_a_foot_on_its_ball_turns_on_it(posed, segment_errors, preset):
    """Crouching in dance-short_normal_001 (39.5-43.5 s), the dancer stays 1.6 s on the ball of the right foot with
    the heel raised, turning on it: the source's ankle sweeps 12 cm while the ball moves under 4 cm. The lock pins the
    foot's point that moves least (the ball), so the ankle follows the source and the legs stay within 20 degrees of
    its directions; pinning the ankle bent the right knee 21 degrees off and slid the ball instead."""
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset
    from lavimo_core.retarget.source_pose import source_pose
    from lavimo_core.retarget.trim import cut_range, cut_source_pose

    whole = load_motion(find_dataset("bandai-namco-1") / "data" / "dataset-1_dance-short_normal_001.bvh")
    motion, first, _ = cut_range(whole, (39.5, 43.5), 0, 30.0)
    source = cut_source_pose(source_pose(whole, 30.0)[0], whole, motion, first, 30.0)
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    locked = solve(motion, rig, bone_map, RetargetOptions(fps=30, hand_lock=False), source)
    today = solve(motion, rig, bone_map, RetargetOptions(fps=30, hand_lock=False, foot_lock=False), source)
    planted = detect_contacts(locked.source_joints, 30.0)
    slide, float_, low, ankle = _feet(rig, bone_map, locked, posed(rig, locked), planted)
    errors = segment_errors(rig, bone_map, locked, posed(rig, locked))
    unlocked = segment_errors(rig, bone_map, today, posed(rig, today))
    print(f"{preset} dance-short: {len(slide)} contacts; planted point's slide max {100 * slide.max():.2f} cm (the "
          f"ankle's max {100 * ankle.max():.2f}), float max {100 * float_.max():.2f} cm, penetration "
          f"{100 * max(0, -low):.2f} cm; body directions mean {errors.mean():.2f} max {errors.max():.2f} deg "
          f"(unlocked {unlocked.mean():.2f} / {unlocked.max():.2f})")
    assert len(slide) >= 5 and slide.max() <= 0.01 and float_.max() <= 0.005 and low >= -1e-5
    assert ankle.max() > 0.05   # the ankle swings about the planted ball, as the source's does
    assert errors.max() <= 20.0 and errors.mean() <= unlocked.mean() + 1.0
