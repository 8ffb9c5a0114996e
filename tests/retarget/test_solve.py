"""The solver on real clips (Bandai-Namco-1, HumanML3D) and the preset rigs: directions, twist, root, floor."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core.motion.motion import Motion
from lavimo_core.motion.skeleton import JOINT_INDEX, JOINT_NAMES
from lavimo_core.retarget import (
    EmptyMotionError,
    RetargetError,
    RetargetOptions,
    detect_bone_map,
    solve,
)
from lavimo_core.retarget.rig_presets import PRESET_NAMES, preset_rig, rig_preset
from lavimo_core.retarget.root import heading_yaw, leg_length, lowest_foot_height


def _rotation_angles(q):
    return np.degrees(2 * np.arccos(np.clip(np.abs(q[..., 0]), 0, 1)))


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_bones_follow_source_directions(preset, bandai_motions, humanml3d_motion, posed, segment_errors):
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    for motion in [*bandai_motions.values(), humanml3d_motion]:
        result = solve(motion, rig, bone_map, RetargetOptions(fps=30, foot_lock=False))
        for q in result.rotations.values():
            assert np.all(np.isfinite(q)) and np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-6)
        errors = segment_errors(rig, bone_map, result, posed(rig, result))
        assert errors.shape[0] >= 15
        assert errors.max() < 0.01, (motion.name, errors.max())


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_facing_and_up_are_read_from_the_rest_pose(preset):
    rig, spec = preset_rig(preset), rig_preset(preset)
    result = solve(Motion("still", np.zeros((1, 22, 3)) + _tpose()), rig, detect_bone_map(rig))
    np.testing.assert_allclose(result.placement.forward, spec.forward, atol=1e-9)
    np.testing.assert_allclose(result.placement.up, spec.up, atol=1e-9)
    assert np.linalg.det(result.placement.rotation) == pytest.approx(1.0)


def _tpose():
    """A canonical T-pose (Y up, facing +Z) to place a few frames of motion."""
    centre = {"pelvis": 0.95, "spine1": 1.05, "spine2": 1.18, "spine3": 1.3, "neck": 1.5, "head": 1.6}
    side = {"hip": (0.09, 0.88, 0), "knee": (0.1, 0.5, 0), "ankle": (0.1, 0.08, 0), "foot": (0.1, 0.02, 0.12),
            "collar": (0.04, 1.42, 0), "shoulder": (0.18, 1.42, 0), "elbow": (0.45, 1.42, 0), "wrist": (0.7, 1.42, 0)}
    j = np.zeros((22, 3))
    for name, y in centre.items():
        j[JOINT_INDEX[name]] = (0, y, 0)
    for name, (x, y, z) in side.items():
        j[JOINT_INDEX["left_" + name]] = (x, y, z)
        j[JOINT_INDEX["right_" + name]] = (-x, y, z)
    return j


def test_clip_on_its_own_first_frame_as_rest_reproduces_every_joint(bandai_motions, rig_from_pose, posed):
    # A centimetre, Z-up rig whose rest pose is the clip's own first frame (not a T-pose), every bone rolled:
    # directions alone must bring every joint back where the source has it.
    motion = bandai_motions["run_normal_001"]
    to_zup = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # canonical (Y up, facing +Z) -> Z up, facing -Y
    rig = rig_from_pose(100.0 * motion.joints[0] @ to_zup.T, roll=0.7)
    bone_map = detect_bone_map(rig)
    result = solve(motion, rig, bone_map, RetargetOptions(floor_contact=False, foot_lock=False))
    assert result.report.scale == pytest.approx(100.0, rel=1e-4)
    heads = posed(rig, result)[:, :, :3, 3]
    want = result.placement.to_armature(result.source_joints)
    order = [rig.index(bone_map.joints[j]) for j in JOINT_NAMES]
    np.testing.assert_allclose(heads[:, order], want, atol=0.05)  # half a millimetre, in centimetres
    np.testing.assert_allclose(result.placement.rotation, to_zup, atol=1e-9)


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_the_rigs_own_rest_pose_gives_rest_rotations(preset):
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    first = solve(Motion("any", np.repeat(_tpose()[None], 2, 0)), rig, bone_map, RetargetOptions(foot_lock=False))
    placement = first.placement
    heads = {j: rig.heads[rig.index(b)] for j, b in bone_map.joints.items()}
    heads.setdefault("spine2", (heads["spine1"] + heads["spine3"]) / 2)  # the BVH rig has no spine2 bone
    canonical = (np.stack([heads[j] for j in JOINT_NAMES]) - placement.origin) @ placement.rotation / placement.scale
    result = solve(Motion("rest", np.repeat(canonical[None], 3, 0)), rig, bone_map, RetargetOptions(foot_lock=False))
    for bone, q in result.rotations.items():
        # The A-pose rig's elbows are bent 12 degrees in rest: its arms' twist may move by about a degree.
        assert _rotation_angles(q).max() < 2.5, bone
    np.testing.assert_allclose(result.root_translation, 0.0, atol=1e-6 * placement.scale)


@pytest.mark.parametrize("preset", ["rigify", "unreal"])
def test_no_flips_and_hinges_bend_without_twisting(preset, bandai_motions):
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    for motion in bandai_motions.values():
        result = solve(motion, rig, bone_map, RetargetOptions(fps=30, foot_lock=False))
        for bone, q in result.rotations.items():
            assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0), bone  # sign-continuous
            step = np.degrees(2 * np.arccos(np.clip(np.sum(q[1:] * q[:-1], axis=1), -1, 1)))
            assert step.max() < 60, (motion.name, bone, step.max())  # no half-turn flips between frames
        for upper, lower in (("left_hip", "left_knee"), ("right_shoulder", "right_elbow")):
            # Knee and elbow are hinges: the lower bone's rotation relative to the upper one (in the world)
            # should not twist about the lower bone's own axis.
            rest = rig.rest_rotations
            iu, il = rig.index(bone_map.joints[upper]), rig.index(bone_map.joints[lower])
            rel = np.swapaxes(_world(rig, result, iu), 1, 2) @ _world(rig, result, il)
            axis = rest[il][:, 1]
            q = Rotation.from_matrix(rel).as_quat(scalar_first=True)
            twist = np.degrees(2 * np.arctan2(np.abs(q[:, 1:] @ axis), np.abs(q[:, 0])))
            assert np.median(twist) < 10 and np.percentile(twist, 95) < 30, (motion.name, lower)


def _world(rig, result, i):
    """World (armature) delta rotation of bone i: product of basis rotations up its chain, in rest frames."""
    rest = rig.rest_rotations
    chain = [i] + rig.ancestors(i)
    w = np.eye(3)
    for b in reversed(chain):
        name = rig.names[b]
        if name in result.rotations:
            r = Rotation.from_quat(result.rotations[name], scalar_first=True).as_matrix()
            w = w @ (rest[b] @ r @ rest[b].T)
    return w


@pytest.mark.parametrize("preset", ["mixamo", "apose", "smpl"])
def test_feet_neither_sink_nor_float(preset, bandai_motions, posed):
    rig = preset_rig(preset)
    bone_map = detect_bone_map(rig)
    for motion in bandai_motions.values():
        result = solve(motion, rig, bone_map, RetargetOptions(fps=24, foot_lock=False))
        pose = posed(rig, result)
        feet = [rig.index(bone_map.joints[j]) for j in ("left_ankle", "right_ankle")]
        feet += [d for f in list(feet) for d in rig.descendants(f)]
        foot_pose = pose[:, feet]
        tails = foot_pose[..., :3, :3] @ np.linalg.inv(rig.rest_matrices[feet])[:, :3, :3] @ \
            (rig.tails[feet] - rig.heads[feet])[..., None]
        points = np.concatenate([foot_pose[..., :3, 3], foot_pose[..., :3, 3] + tails[..., 0]], axis=1)
        lowest = (points @ result.placement.up).min(axis=1)
        metre = result.report.scale
        above = (lowest - result.placement.floor) / metre          # metres of the character
        assert above.min() > -0.001, motion.name                 # never sinks
        touching = lowest_foot_height(result.source_joints) < 0.01
        assert touching.any()
        assert above[touching].max() < 0.011, motion.name       # stands on the floor when the source does


def test_stride_scales_with_leg_length(bandai_motions, posed):
    motion = bandai_motions["walk_normal_001"]
    for preset in ("apose", "rigify"):
        rig = preset_rig(preset)
        bone_map = detect_bone_map(rig)
        result = solve(motion, rig, bone_map, RetargetOptions(foot_lock=False))
        heads = {j: rig.heads[rig.index(b)] for j, b in bone_map.joints.items()}
        legs = np.mean([np.linalg.norm(heads[f"{s}_knee"] - heads[f"{s}_hip"]) +
                        np.linalg.norm(heads[f"{s}_ankle"] - heads[f"{s}_knee"]) for s in ("left", "right")])
        assert result.report.scale == pytest.approx(legs / leg_length(motion.joints), rel=1e-6)
        pelvis = posed(rig, result)[:, rig.index(bone_map.joints["pelvis"]), :3, 3]
        travel = np.linalg.norm((pelvis[-1] - pelvis[0]) @ result.placement.rotation[:, [0, 2]])
        source = np.linalg.norm(motion.joints[-1, 0, [0, 2]] - motion.joints[0, 0, [0, 2]])
        assert travel == pytest.approx(source * result.report.scale, rel=1e-3)


def test_in_place_keeps_the_pelvis_over_its_start(bandai_motions, posed):
    motion = bandai_motions["walk_normal_001"]
    for preset in ("mixamo", "smpl"):
        rig = preset_rig(preset)
        bone_map = detect_bone_map(rig)
        result = solve(motion, rig, bone_map, RetargetOptions(root_motion="in_place", foot_lock=False))
        pelvis = posed(rig, result)[:, rig.index(bone_map.joints["pelvis"]), :3, 3]
        ground = (pelvis - pelvis[:1]) @ result.placement.rotation[:, [0, 2]]
        assert np.abs(ground).max() < 1e-6 * result.report.scale
        if bone_map.root:
            np.testing.assert_allclose(result.locations[bone_map.root], 0.0, atol=1e-9)


def test_locked_heading_removes_turns(bandai_motions):
    motion = bandai_motions["kick_normal_001"]  # spins three full turns
    turns = np.degrees(np.ptp(heading_yaw(motion.joints.astype(float), motion.fps)))
    assert turns > 700
    rig = preset_rig("unreal")
    bone_map = detect_bone_map(rig)
    result = solve(motion, rig, bone_map, RetargetOptions(root_motion="locked_heading", foot_lock=False))
    assert np.degrees(np.ptp(heading_yaw(result.source_joints, result.fps))) < 60
    assert _rotation_angles(result.rotations["root"]).max() < 1e-6  # the root never turns


def test_separate_root_bone_carries_ground_trajectory_and_heading(bandai_motions, posed):
    motion = bandai_motions["kick_normal_001"]
    rig = preset_rig("smpl")
    bone_map = detect_bone_map(rig)
    assert bone_map.root == "root"
    result = solve(motion, rig, bone_map, RetargetOptions(fps=30, foot_lock=False))
    assert result.root_bone == "root" and set(result.locations) == {"root", "pelvis"}
    pose = posed(rig, result)
    root, pelvis = pose[:, rig.index("root")], pose[:, rig.index("pelvis")]
    up = result.placement.up
    np.testing.assert_allclose(root[:, :3, 3] @ up, rig.heads[rig.index("root")] @ up, atol=1e-9)  # on the ground
    ground = (pelvis[:, :3, 3] - root[:, :3, 3]) @ result.placement.rotation[:, [0, 2]]
    assert np.abs(ground - ground[0]).max() < 1e-6   # the root stays under the pelvis
    # The root turns about the up axis only, as much as the body does (three turns), smoothly.
    turn = Rotation.from_matrix(root[:, :3, :3] @ rig.rest_rotations[rig.index("root")].T)
    np.testing.assert_allclose(turn.apply(up), np.broadcast_to(up, (len(turn), 3)), atol=1e-9)
    yaw = np.unwrap(turn.as_rotvec() @ up)
    body = heading_yaw(result.source_joints, result.fps)
    np.testing.assert_allclose(yaw, body - body[0], atol=1e-6)


def test_resamples_to_the_output_frame_rate(humanml3d_motion):
    rig = preset_rig("smpl")
    bone_map = detect_bone_map(rig)
    for fps, frames in ((20, 170), (30, 254), (24, 203), (30 / 1.001, 254)):
        result = solve(humanml3d_motion, rig, bone_map, RetargetOptions(fps=fps, root_motion="in_place"))
        assert result.num_frames == frames and result.source_joints.shape == (frames, 22, 3)
        np.testing.assert_allclose(result.source_joints[0], humanml3d_motion.joints[0], atol=1e-6)


def test_empty_nan_and_bad_options_raise_clear_errors(humanml3d_motion):
    rig = preset_rig("smpl")
    bone_map = detect_bone_map(rig)
    with pytest.raises(EmptyMotionError, match="'nothing' has no frames"):
        solve(Motion("nothing", np.zeros((0, 22, 3))), rig, bone_map)
    broken = humanml3d_motion.joints.copy()
    broken[5, 3] = np.nan
    with pytest.raises(RetargetError, match="NaN"):
        solve(Motion("broken", broken), rig, bone_map)
    with pytest.raises(RetargetError, match="unknown root motion 'sideways'"):
        solve(humanml3d_motion, rig, bone_map, RetargetOptions(root_motion="sideways"))
    with pytest.raises(RetargetError, match="frame rate"):
        solve(humanml3d_motion, rig, bone_map, RetargetOptions(fps=0))


def test_a_collapsed_source_frame_leaves_bones_at_rest_instead_of_failing(humanml3d_motion):
    # Coincident joints once crashed the solve (a zero-length segment has no direction).
    joints = humanml3d_motion.joints.copy()
    joints[40] = joints[40, 0]
    rig = preset_rig("rigify")
    result = solve(Motion("collapsed", joints), rig, detect_bone_map(rig))
    for bone, q in result.rotations.items():
        assert np.all(np.isfinite(q)), bone
    assert _rotation_angles(result.rotations["DEF-spine"][40]) < 1e-6
