"""Shared pieces of the apply tests: the rigs under test, real clips, and measuring a posed armature in Blender.

Measurements are taken from Blender's own evaluation (depsgraph, pose bone heads/tails per frame), and the
expected directions come from the source joints and each rig's *declared* facing and up (rig_presets),
not from anything the retargeter computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import bpy
import numpy as np

from lavimo_core.motion.load import load_motion
from lavimo_core.motion.motion import Motion
from lavimo_core.motion.skeleton import JOINT_INDEX
from lavimo_core.paths import find_dataset
from lavimo_core.retarget.rig_presets import rig_preset

# Bone -> the joint it points at (pelvis and chest point up the spine), as the metric defines it.
POINTS_AT = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle", "right_knee": "right_ankle",
    "left_ankle": "left_foot", "right_ankle": "right_foot", "left_collar": "left_shoulder",
    "right_collar": "right_shoulder", "left_shoulder": "left_elbow", "right_shoulder": "right_elbow",
    "left_elbow": "left_wrist", "right_elbow": "right_wrist",
}

_EULER = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def _mixed_modes(preset: str) -> dict[str, str]:
    """Every Euler order and axis-angle spread over the preset's bones (the rest stay quaternions)."""
    names = [b.name for b in rig_preset(preset).bones]
    modes = {n: _EULER[i % 6] for i, n in enumerate(names)}
    for n in names[3::7]:
        modes[n] = "AXIS_ANGLE"
    for n in names[5::7]:
        modes[n] = "QUATERNION"
    return modes


@dataclass(frozen=True)
class RigCase:
    """A rig to test: the preset, how it is built, and the two clips applied one after the other."""

    preset: str
    build: dict
    clips: tuple[str, str]
    fps: tuple[int, float] = (24, 1.0)   # scene.render.fps, fps_base
    frame_start: int = 1


RIG_CASES = {
    # Mixamo as imported from FBX: centimetre bones in a Y-up armature, object rotated 90 degrees and scaled 0.01.
    "mixamo_cm_fbx": RigCase("mixamo", {}, ("walk_normal_001", "kick_normal_001")),
    # Rigify deform bones, rolled, every Euler order and axis-angle; 30 fps scene, starting at frame 12.
    "rigify_euler": RigCase("rigify", {"rotation_modes": _mixed_modes("rigify")},
                            ("walk_normal_001", "bow_normal_001"), fps=(30, 1.0), frame_start=12),
    # SMPL-X names under a separate root bone, the object scaled by 100.
    "smpl_root_x100": RigCase("smpl", {"scale": 100.0}, ("walk_normal_001", "run_normal_001")),
    # A-pose BVH-named rig with rolled bones, short legs and long arms, on a turned, tilted, moved object; 29.97 fps.
    "apose_rotated": RigCase("apose", {"rotation": (0.2, -0.1, 2.4), "location": (3.0, -2.0, 1.0),
                                       "rotation_modes": "YZX"},
                             ("walk-back_normal_001", "dash_normal_001"), fps=(30, 1.001)),
    # UE5 mannequin names, root bone, twist and IK helper bones, facing +Y.
    "unreal_root": RigCase("unreal", {}, ("walk_normal_001", "byebye_normal_001")),
    # Character Creator: CC_Base_* names, A-pose, centimetres under an object scaled 0.01, rolled per side.
    "cc_apose_cm": RigCase("cc", {}, ("walk_normal_001", "bow_normal_001")),
    # VRoid: J_Bip_* names, T-pose, glTF Y-up frames as rolls, J_Sec_/J_Adj_ helpers; 25 fps scene.
    "vroid_gltf": RigCase("vroid", {}, ("run_normal_001", "byebye_normal_001"), fps=(25, 1.0)),
    # UE5 Manny as FBX import shows it: limbs along each bone's X, centimetres, metacarpals, twist and IK bones.
    "manny_x_axis": RigCase("manny", {}, ("walk-left_normal_001", "kick_normal_001")),
    # Auto-Rig Pro's exported deform bones: twist/stretch split limbs under c_traj.
    "auto_rig_pro_export": RigCase("auto_rig_pro", {}, ("walk_normal_001", "dash_normal_001")),
}


@cache
def clip(name: str) -> Motion:
    """Bandai-Namco-1 clip `dataset-1_<name>.bvh` as a canonical motion."""
    return load_motion(find_dataset("bandai-namco-1") / "data" / f"dataset-1_{name}.bvh")


def evaluate(obj: bpy.types.Object, frames) -> tuple[np.ndarray, np.ndarray]:
    """World-space pose bone heads and tails (F, N, 3) at each scene frame, from Blender's evaluation."""
    scene = bpy.context.scene
    n = len(obj.data.bones)
    heads, tails = [], []
    buf = np.empty(n * 3, dtype=np.float32)
    for f in frames:
        scene.frame_set(int(f))
        posed = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
        posed.pose.bones.foreach_get("head", buf)
        heads.append(buf.reshape(n, 3).copy())
        posed.pose.bones.foreach_get("tail", buf)
        tails.append(buf.reshape(n, 3).copy())
    world = np.array(obj.matrix_world, dtype=np.float64)
    to_world = lambda p: np.asarray(p, np.float64) @ world[:3, :3].T + world[:3, 3]  # noqa: E731
    return to_world(np.array(heads)), to_world(np.array(tails))


def source_at_frames(motion: Motion, frames, frame_start: int, fps: float) -> np.ndarray:
    """Source joints (F, 22, 3) at scene frames, interpolated linearly in the source's time."""
    t = (np.asarray(frames, float) - frame_start) / fps * motion.fps
    src = np.arange(motion.num_frames)
    j = motion.joints.astype(np.float64)
    return np.stack([np.stack([np.interp(t, src, j[:, k, c]) for c in range(3)], -1) for k in range(22)], 1)


@dataclass
class Measured:
    """Direction errors (degrees) per mapped bone and frame, and the feet against the floor (character metres)."""

    errors: np.ndarray        # (S, F)
    penetration: float        # how far the lowest foot point goes below the floor, >= 0
    float_when_touching: float  # highest the lowest foot point is while the source's feet touch the ground
    finite: bool

    def line(self, name: str) -> str:
        """A summary line for logs and the report."""
        return (f"{name}: mean {self.errors.mean():.3f} deg, max {self.errors.max():.3f} deg, "
                f"penetration {100 * self.penetration:.2f} cm, floating {100 * self.float_when_touching:.2f} cm")


def measure(obj: bpy.types.Object, preset: str, motion: Motion, mapped: dict[str, str], frame_start: int,
            frame_end: int, fps: float) -> Measured:
    """Evaluate `obj` over the applied frames and compare it with `motion` as the issue's proof asks."""
    spec = rig_preset(preset)
    frames = np.arange(frame_start, frame_end + 1)
    heads, tails = evaluate(obj, frames)
    names = [b.name for b in obj.data.bones]
    src = source_at_frames(motion, frames, frame_start, fps)
    world = np.array(obj.matrix_world, dtype=np.float64)[:3, :3]
    up, forward = np.array(spec.up), np.array(spec.forward)
    to_world = world @ np.stack([np.cross(up, forward), up, forward], axis=1)  # canonical -> world, declared

    errors = []
    for joint, bone in mapped.items():
        child = POINTS_AT.get(joint)
        while child is not None and child not in mapped:
            child = POINTS_AT.get(child)
        if child is None:
            continue
        got = heads[:, names.index(mapped[child])] - heads[:, names.index(bone)]
        want = (src[:, JOINT_INDEX[child]] - src[:, JOINT_INDEX[joint]]) @ to_world.T
        cos = np.sum(got * want, -1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1)
        errors.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))

    feet = []
    for joint in ("left_ankle", "right_ankle"):
        bone = obj.data.bones[mapped[joint]]
        feet += [names.index(b.name) for b in [bone, *bone.children_recursive]]
    world_up = world @ up
    metre = np.linalg.norm(world_up) * spec.units_per_metre   # world units per metre of the character
    world_up = world_up / np.linalg.norm(world_up)
    m = np.array(obj.matrix_world, dtype=np.float64)
    rest = np.array([p for i in feet for p in (obj.data.bones[i].head_local, obj.data.bones[i].tail_local)])
    floor = ((rest @ m[:3, :3].T + m[:3, 3]) @ world_up).min()
    lowest = np.concatenate([heads[:, feet], tails[:, feet]], axis=1) @ world_up
    above = (lowest.min(axis=1) - floor) / metre
    foot_joints = [JOINT_INDEX[j] for j in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    touching = src[:, foot_joints, 1].min(axis=1) < 0.01
    return Measured(
        errors=np.array(errors), penetration=float(max(0.0, -above.min())),
        float_when_touching=float(above[touching].max()) if touching.any() else 0.0,
        finite=bool(np.isfinite(heads).all() and np.isfinite(tails).all()))


def scene_state(obj: bpy.types.Object | None) -> dict:
    """Everything apply_motion could change, to prove a refused apply changed nothing."""
    state = {"actions": sorted(a.name for a in bpy.data.actions),
             "fake_users": sorted(a.name for a in bpy.data.actions if a.use_fake_user)}
    if obj is not None and obj.type == "ARMATURE":
        ad = obj.animation_data
        state["anim"] = None if ad is None else (ad.action.name if ad.action else None, len(ad.nla_tracks))
        state["pose"] = [(tuple(pb.location), tuple(pb.rotation_quaternion), tuple(pb.rotation_euler))
                         for pb in obj.pose.bones]
    return state


def action_fcurves(obj: bpy.types.Object) -> list:
    """The F-curves of `obj`'s active action (slotted actions in 4.4+; 5.0 has no Action.fcurves)."""
    action, anim = obj.animation_data.action, obj.animation_data
    if hasattr(action, "layers") and action.layers:
        bag = action.layers[0].strips[0].channelbag(anim.action_slot)
        return list(bag.fcurves) if bag else []
    return list(action.fcurves)


def keyed_bones(obj: bpy.types.Object) -> set[str]:
    """Names of the pose bones with F-curves in `obj`'s active action."""
    return {fc.data_path.split('"')[1] for fc in action_fcurves(obj) if fc.data_path.startswith("pose.bones")}


def action_keys(obj: bpy.types.Object) -> int:
    """Number of keyframes on `obj`'s active action."""
    return sum(len(fc.keyframe_points) for fc in action_fcurves(obj))


def import_source_bvh(path: str, fps_scale: bool = False) -> bpy.types.Object:
    """The BVH file imported by Blender's own importer (metres from centimetres, Y up), as an independent source;
    `fps_scale` spreads its frames over the scene's frame rate (a 120 fps file in a 20 fps scene)."""
    import addon_utils

    if not addon_utils.check("io_anim_bvh")[1]:
        bpy.ops.preferences.addon_enable(module="io_anim_bvh")
    active = bpy.context.view_layer.objects.active
    bpy.ops.import_anim.bvh(filepath=str(path), global_scale=0.01, update_scene_fps=False,
                            update_scene_duration=False, axis_forward="-Z", axis_up="Y",
                            use_fps_scale=fps_scale)
    obj = bpy.context.view_layer.objects.active
    bpy.context.view_layer.objects.active = active
    return obj


def _unit_rotation(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=-2, keepdims=True)


def _pose_rotations(obj: bpy.types.Object, names: list[str]) -> np.ndarray:
    """World rotations (B, 3, 3) of pose bones `names` as evaluated now (scale removed)."""
    posed = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    world = np.array(obj.matrix_world, dtype=np.float64)[:3, :3]
    return _unit_rotation(np.stack([world @ np.array(posed.pose.bones[n].matrix)[:3, :3] for n in names]))


def rotation_errors(obj: bpy.types.Object, preset: str, source: bpy.types.Object, motion: Motion,
                    pairs: dict[str, tuple[str, str]], frame_start: int, frame_end: int) -> dict[str, np.ndarray]:
    """Per joint, degrees (F,) between the rig bone's world rotation since `frame_start` and the source
    bone's, carried into the rig's world (joint -> (rig bone, source bone)); both start at `frame_start`."""
    scene = bpy.context.scene
    frames = list(range(frame_start, frame_end + 1, 2))
    joints = list(pairs)
    got, src, heads = [], [], []
    for f in frames:
        scene.frame_set(f)
        got.append(_pose_rotations(obj, [pairs[j][0] for j in joints]))
        src.append(_pose_rotations(source, [pairs[j][1] for j in joints]))
        posed = source.evaluated_get(bpy.context.evaluated_depsgraph_get())
        m = np.array(source.matrix_world, dtype=np.float64)
        heads.append([m[:3, :3] @ np.array(posed.pose.bones[pairs[j][1]].head) + m[:3, 3] for j in joints])
    got, src, heads = np.array(got), np.array(src), np.array(heads)
    # Source world -> canonical: fitted on the joints the two share, at scene frames that fall on motion frames.
    fps = scene.render.fps / scene.render.fps_base
    t = (np.array(frames) - frame_start) / fps * motion.fps
    on = np.abs(t - np.round(t)) < 1e-6
    body = [k for k, j in enumerate(joints) if j in JOINT_INDEX]   # fingers are not among the motion's joints
    canonical = motion.joints[np.round(t[on]).astype(int)][:, [JOINT_INDEX[joints[k]] for k in body]].reshape(-1, 3)
    a, b = heads[on][:, body].reshape(-1, 3), canonical.astype(np.float64)
    u, _, vt = np.linalg.svd((b - b.mean(0)).T @ (a - a.mean(0)))
    to_canonical = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
    spec = rig_preset(preset)
    up, forward = np.array(spec.up), np.array(spec.forward)
    world = _unit_rotation(np.array(obj.matrix_world, dtype=np.float64)[:3, :3])
    carry = world @ np.stack([np.cross(up, forward), up, forward], axis=1) @ to_canonical
    out = {}
    for k, joint in enumerate(joints):
        d_got = got[:, k] @ got[0, k].T
        d_src = carry @ src[:, k] @ src[0, k].T @ carry.T
        r = np.swapaxes(d_got, 1, 2) @ d_src
        out[joint] = np.degrees(np.arccos(np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)))
    return out
