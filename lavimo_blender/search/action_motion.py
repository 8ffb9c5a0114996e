"""Read an armature's current action back into a canonical Motion, for "Find similar".

The posed armature is evaluated over the action's frame range at 20 fps (scene.frame_set with
subframes, so constraints, IK and drivers count), the bones that play the 22 canonical joints are
found with the retargeting bone map, and their heads are converted from Blender's Z-up world to the
canonical Y-up frame. Evaluation runs as short main-thread steps (see bridge.start_steps); the
scene's current frame is restored afterwards, also when cancelled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import bpy
import numpy as np

from lavimo_core.errors import LavimoError

STEP_S = 0.004  # evaluate frames for at most this long per main-thread step (plus one frame)

# A joint without a bone of its own sits at the tail of its parent joint's bone (forearm tail = wrist).
_FROM_TAIL = {"left_wrist": "left_elbow", "right_wrist": "right_elbow", "left_foot": "left_ankle",
              "right_foot": "right_ankle", "head": "neck"}
_COLLAR_FRACTION = 0.3  # a missing collar: this far from the neck towards the shoulder (SMPL proportions)


class ActionReadError(LavimoError):
    """The active object has no action that can be read as a motion; the message says what to select."""


def check_target(obj) -> bpy.types.Action:
    """The action to read from `obj`, or raise ActionReadError saying what is wrong."""
    if obj is None or obj.type != 'ARMATURE':
        what = "nothing is active" if obj is None else f"{obj.name!r} is a {obj.type.lower()}"
        raise ActionReadError(f"Find similar needs an armature with an action: {what}; select the animated "
                              "armature")
    anim = obj.animation_data
    if anim is None or anim.action is None:
        raise ActionReadError(f"armature {obj.name!r} has no current action; give it an animation (or apply a "
                              "result) first")
    start, end = anim.action.frame_range
    if end - start < 1:
        raise ActionReadError(f"action {anim.action.name!r} has no motion to read (frames {start:g} to {end:g}); "
                              "Find similar needs an animation over at least two frames")
    return anim.action


def bones_for_joints(obj) -> dict[str, str]:
    """Canonical joint -> bone of `obj`, from the retargeting bone map (raises BoneMapError if too few match)."""
    from lavimo_core.retarget import detect_bone_map

    from ..apply.rig import read_rig

    return dict(detect_bone_map(read_rig(obj)).joints)


def _to_canonical_axes(points: np.ndarray) -> np.ndarray:
    # Blender: Z up, characters face -Y. Canonical: Y up, facing +Z. (x, y, z) -> (x, z, -y) is a rotation.
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def read_steps(context, obj) -> Iterator[float]:
    """Generator: evaluate `obj` over its action, yielding progress between short steps; returns the Motion."""
    from lavimo_core.motion.features import canonicalize_joints
    from lavimo_core.motion.motion import Motion, SourceInfo
    from lavimo_core.motion.skeleton import FPS, JOINT_INDEX, JOINT_NAMES
    from lavimo_core.motion.skeleton_maps import SPINE_FRACTIONS, interpolate_chain

    action = check_target(obj)
    joints_to_bones = bones_for_joints(obj)
    scene = context.scene
    fps = scene.render.fps / scene.render.fps_base
    start, end = (float(x) for x in action.frame_range)
    count = int(math.floor((end - start) / fps * FPS + 1e-6)) + 1
    times = start + np.arange(count) * (fps / FPS)
    mapped = [(JOINT_INDEX[j], b) for j, b in joints_to_bones.items()]
    tails = [(JOINT_INDEX[j], joints_to_bones[p]) for j, p in _FROM_TAIL.items()
             if j not in joints_to_bones and p in joints_to_bones]
    heads = np.full((count, len(JOINT_NAMES), 3), np.nan)
    pose = obj.pose.bones
    saved = (scene.frame_current, scene.frame_subframe)
    try:
        deadline = time.perf_counter() + STEP_S
        for i, t in enumerate(times):
            frame = math.floor(t)
            scene.frame_set(int(frame), subframe=float(t - frame))
            world = np.array(obj.matrix_world)
            for j, bone in mapped:
                heads[i, j] = pose[bone].head
            for j, bone in tails:
                heads[i, j] = pose[bone].tail
            heads[i] = heads[i] @ world[:3, :3].T + world[:3, 3]
            if time.perf_counter() > deadline:
                yield (i + 1) / count
                deadline = time.perf_counter() + STEP_S
    finally:
        scene.frame_set(saved[0], subframe=saved[1])
    heads = _fill_torso(heads, JOINT_INDEX, SPINE_FRACTIONS, interpolate_chain)
    scale = scene.unit_settings.scale_length or 1.0
    joints = canonicalize_joints(_to_canonical_axes(heads * scale).astype(np.float32))
    source = SourceInfo(path="", format="blender-action", skeleton=obj.name, fps=fps,
                        duration=(end - start) / fps)
    return Motion(name=action.name, joints=joints, source=source)


def _fill_torso(p: np.ndarray, J: dict[str, int], fractions, interpolate_chain) -> np.ndarray:
    """Joints the rig has no bone for: neck between the shoulders, collars towards the neck, spine interpolated."""
    def missing(name: str) -> bool:
        return bool(np.isnan(p[:, J[name]]).any())

    if missing("neck"):
        p[:, J["neck"]] = 0.5 * (p[:, J["left_shoulder"]] + p[:, J["right_shoulder"]])
    if missing("head"):
        p[:, J["head"]] = p[:, J["neck"]] + 0.18 * (p[:, J["neck"]] - p[:, J["pelvis"]])
    for side in ("left", "right"):
        if missing(f"{side}_collar"):
            p[:, J[f"{side}_collar"]] = p[:, J["neck"]] + _COLLAR_FRACTION * (p[:, J[f"{side}_shoulder"]] - p[:, J["neck"]])
        for limb, parent in ((f"{side}_wrist", f"{side}_elbow"), (f"{side}_foot", f"{side}_ankle")):
            if missing(limb):  # no bone tail either: extend the parent bone by a typical proportion
                grand = {f"{side}_elbow": f"{side}_shoulder", f"{side}_ankle": f"{side}_knee"}[parent]
                ratio = 0.85 if limb.endswith("wrist") else 0.35
                p[:, J[limb]] = p[:, J[parent]] + ratio * (p[:, J[parent]] - p[:, J[grand]])
    spine = [J["spine1"], J["spine2"], J["spine3"]]
    have = [s for s in spine if not np.isnan(p[:, s]).any()]
    if len(have) < 3:
        along = interpolate_chain(p[:, [J["pelvis"], *have, J["neck"]]], tuple(fractions))
        for k, s in enumerate(spine):
            if s not in have:
                p[:, s] = along[:, k]
    return p
