"""A real generated Rigify rig (Blender's own Rigify add-on: human metarig -> Generate Rig): the motion goes on
its FK and trunk controls, the limbs are switched to FK, and the DEF bones Blender evaluates through the rig's
constraints land on the source. A metarig is refused with a message saying what to do.
"""

import bpy
import numpy as np
import pytest

from blender_tests.rig_fixtures import (
    clip,
    import_source_bvh,
    rotation_errors,
    scene_state,
    source_at_frames,
)
from blender_tests.test_apply_full_body import BANDAI
from lavimo_blender.apply.core import ApplyError, ApplyOptions, apply_motion
from lavimo_core.motion.skeleton import JOINT_INDEX

# The DEF bone whose head sits at each joint, on a rig generated from the human metarig.
DEF_AT = {"pelvis": "DEF-spine", "spine3": "DEF-spine.003", "neck": "DEF-spine.004", "head": "DEF-spine.006"}
for _s, _x in (("left", "L"), ("right", "R")):
    DEF_AT.update({f"{_s}_hip": f"DEF-thigh.{_x}", f"{_s}_knee": f"DEF-shin.{_x}", f"{_s}_ankle": f"DEF-foot.{_x}",
                   f"{_s}_foot": f"DEF-toe.{_x}", f"{_s}_collar": f"DEF-shoulder.{_x}",
                   f"{_s}_shoulder": f"DEF-upper_arm.{_x}", f"{_s}_elbow": f"DEF-forearm.{_x}",
                   f"{_s}_wrist": f"DEF-hand.{_x}"})
# Each joint's parent among DEF_AT's joints.
UP_TREE = {"spine3": "pelvis", "neck": "spine3", "head": "neck"}
for _s in ("left", "right"):
    UP_TREE.update({f"{_s}_hip": "pelvis", f"{_s}_knee": f"{_s}_hip", f"{_s}_ankle": f"{_s}_knee",
                    f"{_s}_foot": f"{_s}_ankle", f"{_s}_collar": "spine3", f"{_s}_shoulder": f"{_s}_collar",
                    f"{_s}_elbow": f"{_s}_shoulder", f"{_s}_wrist": f"{_s}_elbow"})
# The same for rotations. Rigify spreads the twist of a thigh, shin or upper arm over its two DEF segments
# (the first one only swings), so those are measured on the ORG bone both DEF segments follow.
DEF_TURNS = dict(DEF_AT)
for _x in ("L", "R"):
    _s = "left" if _x == "L" else "right"
    DEF_TURNS.update({f"{_s}_hip": f"ORG-thigh.{_x}", f"{_s}_knee": f"ORG-shin.{_x}",
                      f"{_s}_shoulder": f"ORG-upper_arm.{_x}"})


def _def_heads(obj, frames) -> np.ndarray:
    """World heads (F, J, 3) of the DEF bones at DEF_AT's joints, as Blender evaluates the rig."""
    scene, out = bpy.context.scene, []
    m = np.array(obj.matrix_world, dtype=np.float64)
    for f in frames:
        scene.frame_set(int(f))
        posed = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
        out.append([m[:3, :3] @ np.array(posed.pose.bones[b].head) + m[:3, 3] for b in DEF_AT.values()])
    return np.array(out)


@pytest.mark.parametrize("clip_name", ["walk_normal_001", "byebye_normal_001"])
def test_controls_are_keyed_and_the_def_bones_land_on_the_source(rigify_scene, clip_name):
    rig, _ = rigify_scene
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    # The rig is animated already: its action must not leak into how the controls are read (it did once).
    apply_motion(bpy.context, rig, clip("bow_normal_001"))
    scene.frame_current = 1
    motion = clip(clip_name)
    # Foot lock off: it bends the legs away from the source on purpose (test_apply_feet measures it).
    report = apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False))
    assert not [w for w in report.warnings if "unkeyed" in w], report.warnings
    # Only controls are keyed: no DEF/MCH/ORG bone; the limbs are switched to FK in the action itself.
    assert not [b for b in report.keyed_bones if b.startswith(("DEF-", "MCH-", "ORG-"))]
    assert {"torso", "hips", "chest", "neck", "head", "upper_arm_fk.L", "forearm_fk.R", "hand_fk.L",
            "thigh_fk.R", "shin_fk.L", "foot_fk.R", "toe_fk.L", "shoulder.R"} <= set(report.keyed_bones)
    action = rig.animation_data.action
    curves = {fc.data_path: fc for fc in action.layers[0].strips[0].channelbag(action.slots[0]).fcurves}
    for limb in ("upper_arm_parent.L", "upper_arm_parent.R", "thigh_parent.L", "thigh_parent.R"):
        assert curves[f'pose.bones["{limb}"]["IK_FK"]'].evaluate(report.frame_start) == 1.0

    # DEF bones (moved only by Rigify's constraints) against the source pose built with the rig's own segment
    # lengths (the source's segment directions, scaled lengths would change the character's proportions) from
    # the evaluated pelvis; the pelvis follows the source trajectory scaled to the rig's legs.
    frames = np.arange(report.frame_start, report.frame_end + 1, 3)
    got = _def_heads(rig, frames)
    fps = scene.render.fps / scene.render.fps_base
    src = source_at_frames(motion, frames, report.frame_start, fps)[:, [JOINT_INDEX[j] for j in DEF_AT]]
    to_world = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])   # canonical -> Rigify's Z up, facing -Y
    src = src @ to_world.T
    m = np.array(rig.matrix_world, dtype=np.float64)
    rest = {j: m[:3, :3] @ np.array(rig.data.bones[b].head_local) + m[:3, 3] for j, b in DEF_AT.items()}
    col = {j: k for k, j in enumerate(DEF_AT)}
    leg = np.mean([np.linalg.norm(rest[f"{s}_knee"] - rest[f"{s}_hip"])
                   + np.linalg.norm(rest[f"{s}_ankle"] - rest[f"{s}_knee"]) for s in ("left", "right")])
    # Limbs and neck: source directions at the rig's lengths from where they hang. Where they hang (hips from the
    # pelvis, collars from the chest) is rigid in the rig's own shape, turned as the ORG bone Rigify moves there;
    # the chest hangs from the pelvis at the rig's pelvis-chest length, in the source's pelvis-chest direction.
    hang = {"pelvis": "ORG-spine", "spine3": "ORG-spine.003"}
    posed = rig.evaluated_get(bpy.context.evaluated_depsgraph_get())
    want = np.empty_like(got)
    want[:, 0] = got[:, 0]
    for k, f in enumerate(frames):
        bpy.context.scene.frame_set(int(f))
        for joint, parent in UP_TREE.items():
            d = src[k, col[joint]] - src[k, col[parent]]
            if joint.endswith(("_hip", "_collar")):
                bone = rig.data.bones[hang[parent]]
                turn = m[:3, :3] @ np.array(posed.pose.bones[bone.name].matrix)[:3, :3] @ \
                    np.array(bone.matrix_local)[:3, :3].T @ np.linalg.inv(m[:3, :3])
                want[k, col[joint]] = got[k, col[parent]] + turn @ (rest[joint] - rest[parent])
            else:
                start = got[k, col[parent]] if parent in hang else want[k, col[parent]]
                want[k, col[joint]] = start + np.linalg.norm(rest[joint] - rest[parent]) * d / np.linalg.norm(d)
    error = np.linalg.norm(got - want, axis=-1) / leg
    j = motion.joints
    src_leg = np.mean([np.linalg.norm(j[:, JOINT_INDEX[f"{s}_knee"]] - j[:, JOINT_INDEX[f"{s}_hip"]], axis=-1).mean()
                       + np.linalg.norm(j[:, JOINT_INDEX[f"{s}_ankle"]] - j[:, JOINT_INDEX[f"{s}_knee"]], axis=-1).mean()
                       for s in ("left", "right")])
    track = np.linalg.norm((got[:, 0] - got[0, 0] - (src[:, 0] - src[0, 0]) * leg / src_leg)[:, :2], axis=-1) / leg
    print(f"rigify {clip_name}: DEF joints vs source directions at the rig's lengths: mean {100 * error.mean():.2f}% "
          f"max {100 * error.max():.2f}% of leg length; pelvis track max {100 * track.max():.2f}%; per joint max: "
          + ", ".join(f"{n} {100 * e:.1f}" for n, e in zip(DEF_AT, error.max(0), strict=True)))
    assert np.isfinite(got).all()
    # The chest too (it was off by 2.4-4.7% while spine_fk stayed at rest and Rigify swung the chest's head by
    # half the chest's turn about its own pivot).
    assert error.max() <= 0.03
    assert track.max() <= 0.03


def test_head_and_wrists_of_the_def_bones_turn_with_the_source(rigify_scene):
    rig, _ = rigify_scene
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    scene.frame_current = 1
    motion = clip("byebye_normal_001")
    source = import_source_bvh(motion.source.path)
    report = apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False))
    pairs = {j: (DEF_TURNS[j], BANDAI[j]) for j in DEF_TURNS if j in BANDAI}
    errors = rotation_errors(rig, "rigify", source, motion, pairs, report.frame_start, report.frame_end)
    for joint, e in errors.items():
        print(f"rigify DEF {joint}: {e.mean():.2f}/{e.max():.2f} deg")
    every = np.concatenate(list(errors.values()))
    assert every.mean() <= 5.0 and every.max() <= 20.0
    for joint in ("head", "left_wrist", "right_wrist"):
        assert errors[joint].mean() <= 5.0, joint


def test_a_metarig_is_refused_and_nothing_changes(rigify_scene):
    rig, metarig = rigify_scene
    before = scene_state(metarig), scene_state(rig)
    with pytest.raises(ApplyError, match="'metarig' is a Rigify metarig.*generate the rig.*Nothing was keyed"):
        apply_motion(bpy.context, metarig, clip("walk_normal_001"))
    assert (scene_state(metarig), scene_state(rig)) == before


@pytest.mark.parametrize("clip_name", ["walk_normal_001", "byebye_normal_001"])
def test_baking_onto_ik_controls_puts_hands_and_feet_where_fk_does(rigify_scene, clip_name):
    rig, _ = rigify_scene
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    scene.frame_current = 1
    motion = clip(clip_name)
    ends = ["DEF-hand.L", "DEF-hand.R", "DEF-foot.L", "DEF-foot.R", "DEF-forearm.L", "DEF-forearm.R", "DEF-shin.L",
            "DEF-shin.R"]   # wrists and ankles; elbows and knees (the poles keep each limb in its plane)

    def heads(report) -> np.ndarray:
        m = np.array(rig.matrix_world, dtype=np.float64)
        out = []
        for f in range(report.frame_start, report.frame_end + 1, 3):
            scene.frame_set(f)
            posed = rig.evaluated_get(bpy.context.evaluated_depsgraph_get())
            out.append([m[:3, :3] @ np.array(posed.pose.bones[b].head) + m[:3, 3] for b in ends])
        return np.array(out)

    fk = heads(apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False)))
    report = apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False, rigify_ik=True))
    ik = heads(report)
    assert not [w for w in report.warnings if "unkeyed" in w], report.warnings
    keyed = set(report.keyed_bones)
    assert {"hand_ik.L", "hand_ik.R", "foot_ik.L", "foot_ik.R", "upper_arm_ik_target.L", "thigh_ik_target.R"} <= keyed
    assert not keyed & {"upper_arm_fk.L", "forearm_fk.R", "hand_fk.L", "thigh_fk.R", "shin_fk.L", "foot_fk.R"}
    action = rig.animation_data.action
    curves = {fc.data_path: fc for fc in action.layers[0].strips[0].channelbag(action.slots[0]).fcurves}
    for limb in ("upper_arm_parent.L", "upper_arm_parent.R", "thigh_parent.L", "thigh_parent.R"):
        assert curves[f'pose.bones["{limb}"]["IK_FK"]'].evaluate(report.frame_start) == 0.0
        assert curves[f'pose.bones["{limb}"]["pole_vector"]'].evaluate(report.frame_start) == 1.0
    leg = sum(rig.data.bones[b].length for b in ("DEF-thigh.L", "DEF-thigh.L.001", "DEF-shin.L", "DEF-shin.L.001"))
    error = np.linalg.norm(ik - fk, axis=-1) / leg
    print(f"rigify IK bake {clip_name}: DEF wrists/ankles vs the FK bake: mean {100 * error[:, :4].mean():.2f}% max "
          f"{100 * error[:, :4].max():.2f}%, elbows/knees max {100 * error[:, 4:].max():.2f}% of leg length")
    assert error[:, :4].max() <= 0.03
    # Elbows and knees only follow the pole's side of the limb (walk: 3.4% on a nearly straight knee, where
    # that side is poorly defined); in FK they sit exactly on the solve.
    assert error[:, 4:].max() <= 0.05


def test_the_panels_bake_onto_ik_setting_reaches_apply(addon):
    from lavimo_blender.apply.ops import apply_options

    assert apply_options(bpy.context.scene).rigify_ik is False   # FK by default, as before
    bpy.context.scene.lavimo_apply.rigify_ik = True
    assert apply_options(bpy.context.scene).rigify_ik is True


def test_the_chest_chain_is_read_from_the_rig_not_from_its_names(rigify_scene):
    """The spine FK bones that put the chest's head in place are found by what they do (under the two bones that
    copy the chest at half influence), so a rig whose spine bones were renamed lands its chest as before; when a
    rig has no such chain, the user is told and the spine FK controls stay at rest."""
    rig, _ = rigify_scene
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    motion = clip("walk_normal_001")
    chest = list(DEF_AT).index("spine3")
    report = apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False))
    frames = np.arange(report.frame_start, report.frame_end + 1, 3)
    before = _def_heads(rig, frames)[:, chest]
    assert {"spine_fk.002", "spine_fk.003"} <= set(report.keyed_bones)
    renamed = {"spine_fk.002": "bend_lower", "MCH-spine.002": "MCH-bend_lower", "spine_fk.003": "bend_upper",
               "MCH-spine.003": "MCH-bend_upper"}
    for old, new in renamed.items():
        rig.data.bones[old].name = new
    scene.frame_current = 1
    report = apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False))
    after = _def_heads(rig, frames)[:, chest]
    leg = np.linalg.norm(np.array(rig.data.bones["DEF-shin.L"].head_local) - rig.data.bones["DEF-thigh.L"].head_local) \
        + np.linalg.norm(np.array(rig.data.bones["DEF-foot.L"].head_local) - rig.data.bones["DEF-shin.L"].head_local)
    moved = np.linalg.norm(after - before, axis=-1).max() / leg
    print(f"rigify renamed spine: chest head moved by {100 * moved:.3f}% of leg length")
    assert {"bend_lower", "bend_upper"} <= set(report.keyed_bones)
    assert moved <= 1e-3 and not [w for w in report.warnings if "spine chain" in w]

    # No bones copying the chest at half influence: told, and nothing of that chain keyed but at rest.
    for name in ("MCH-bend_lower", "MCH-bend_upper"):
        for constraint in rig.pose.bones[name].constraints:
            constraint.mute = True
    scene.frame_current = 1
    report = apply_motion(bpy.context, rig, motion, ApplyOptions(foot_lock=False))
    assert [w for w in report.warnings if "no spine chain" in w and "'chest'" in w], report.warnings
    assert not {"bend_lower", "bend_upper"} & set(report.keyed_bones)


@pytest.mark.parametrize("ik", [False, True])
def test_the_trunk_controls_put_the_spine_and_chest_where_the_solve_has_them(rigify_scene, ik):
    """A dancer crouching and leaning on one hand (dance-short_normal_001, 39.5-43.5 s) bends the lower spine: the
    torso moves with the spine bone above the pelvis and spine_fk turns the pelvis under it, so the ORG bones Rigify
    evaluates (trunk, shoulders, hands and feet; limbs in FK or baked onto IK) sit where the solve put them. (With the torso carrying the pelvis, the spine's middle,
    the chest and the arms hanging from it were 7.7 cm off, and the locked hand 5.8 cm in the floor.)"""
    from lavimo_blender.apply.rig import read_rig
    from lavimo_blender.apply.rigify_rig import rigify_keys
    from lavimo_core.retarget.bone_maps import preset_bone_map
    from lavimo_core.retarget.control_rig import joint_tree_rig, posed_matrices
    from lavimo_core.retarget.solve import RetargetOptions
    from lavimo_core.retarget.source_pose import source_pose
    from lavimo_core.retarget.trim import cut_range, cut_source_pose

    rig, _ = rigify_scene
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    scene.frame_current = 1
    whole = clip("dance-short_normal_001")
    motion, first, _ = cut_range(whole, (39.5, 43.5), 0, 30.0)
    source = cut_source_pose(source_pose(whole, 30.0)[0], whole, motion, first, 30.0)
    solved = rigify_keys(rig, motion, RetargetOptions(fps=30.0), source, ik_limbs=ik).result
    org_rig, _ = joint_tree_rig(read_rig(rig), preset_bone_map(read_rig(rig), "rigify_org"))
    want = posed_matrices(org_rig, solved.rotations, solved.locations, solved.num_frames)[..., :3, 3]
    report = apply_motion(bpy.context, rig, whole, ApplyOptions(range_s=(39.5, 43.5), rigify_ik=ik))
    assert report.frame_end - report.frame_start + 1 == len(want)
    bones = ["ORG-spine", "ORG-spine.001", "ORG-spine.002", "ORG-spine.003", "ORG-spine.004", "ORG-shoulder.L",
             "ORG-upper_arm.R", "ORG-hand.L", "ORG-hand.R", "ORG-thigh.L", "ORG-foot.R"]
    got = []   # armature space, as the solve
    for f in range(report.frame_start, report.frame_end + 1):
        scene.frame_set(f)
        posed = rig.evaluated_get(bpy.context.evaluated_depsgraph_get())
        got.append([np.array(posed.pose.bones[b].head) for b in bones])
    error = np.linalg.norm(np.array(got) - want[:, [org_rig.index(b) for b in bones]], axis=-1)
    leg = sum(rig.data.bones[b].length for b in ("ORG-thigh.L", "ORG-shin.L"))
    print(f"rigify dance-short ik={ik}: evaluated ORG heads vs the solve, max per bone (cm): "
          + ", ".join(f"{b} {100 * e:.2f}" for b, e in zip(bones, error.max(0), strict=True)))
    assert error.max() <= 1e-3 * leg
