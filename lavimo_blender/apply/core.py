"""`apply_motion`: put a canonical Motion on an armature as a new Action (or NLA strip), in one undo step.

Everything that can fail (target checks, bone map, solve) runs before the scene is touched; writing
uses data API calls only (no operators), so the caller's operator is the one undo step. If writing
fails anyway, what was created is removed and the previous state restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np

from lavimo_core.errors import LavimoError
from lavimo_core.motion.motion import Motion
from lavimo_core.retarget.bone_maps import BoneMapReport, detect_bone_map
from lavimo_core.retarget.errors import EmptyMotionError
from lavimo_core.retarget.rotations import rotation_channels
from lavimo_core.retarget.solve import RetargetOptions, RetargetReport, solve
from lavimo_core.retarget.source_pose import source_pose

from .keyframes import Channel, new_action, write_channels
from .rig import read_rig, rotation_modes
from .rigify_rig import is_generated_rigify, is_metarig, rigify_keys


class ApplyError(LavimoError):
    """The motion cannot be applied to the chosen object; the message says what to select or change."""


@dataclass
class ApplyOptions:
    """How to apply: root motion, start frame, NLA strip, bone-map overrides, floor contact."""

    root_motion: str = "full"                  # "full", "in_place" or "locked_heading"
    frame_start: int | None = None             # None: the scene's current frame
    as_nla_strip: bool = False                 # add an NLA strip instead of replacing the active action
    bone_map_overrides: dict[str, str | None] | None = None   # canonical joint (or "root") -> bone name
    floor_contact: bool = True
    full_body: bool = True                     # re-read the source file: head, hands, fingers, toes, twist
    foot_lock: bool = True                     # keep feet planted in the source still and on the floor
    hand_lock: bool = True                     # same for hands the source puts on the floor (crawl, push-up)
    rigify_ik: bool = False                    # Rigify: bake the limbs onto the IK controls instead of FK
    range_s: tuple[float, float] | None = None  # (start, end) seconds of the motion to apply; None: all of it
    handles: int = 0                            # extra frames kept before and after the range (where the clip has them)


@dataclass
class ApplyReport:
    """What apply_motion did."""

    action_name: str
    slot_identifier: str
    frame_start: int
    frame_end: int
    fps: float
    num_keys: int
    keyed_bones: list[str]
    bone_map: BoneMapReport
    retarget: RetargetReport
    previous_action: str | None = None         # the action that was active before; kept with a fake user
    nla_track: str | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the UI."""
        where = f"NLA track {self.nla_track!r}" if self.nla_track else f"action {self.action_name!r}"
        text = (f"Applied as {where}: frames {self.frame_start}-{self.frame_end} at {self.fps:g} fps, "
                f"{len(self.keyed_bones)} bones keyed ({self.bone_map.preset} naming)")
        if self.previous_action:
            text += f"; previous action {self.previous_action!r} kept (fake user)"
        return text + "."


def _check_target(obj: bpy.types.Object | None) -> None:
    if obj is None:
        raise ApplyError("No armature selected: select your character's armature (the object with the bones) "
                         "and apply again.")
    if obj.type != "ARMATURE":
        owner = next((m.object for m in getattr(obj, "modifiers", ()) if m.type == "ARMATURE" and m.object), None)
        owner = owner or (obj.parent if obj.parent and obj.parent.type == "ARMATURE" else None)
        hint = f"select its armature {owner.name!r}" if owner else "select the character's armature"
        raise ApplyError(f"{obj.name!r} is a {obj.type.lower()}, not an armature: {hint} and apply again.")
    if not obj.data.bones:
        raise ApplyError(f"armature {obj.name!r} has no bones; add a skeleton or pick another armature.")
    if obj.library is not None or obj.data.library is not None:
        raise ApplyError(f"armature {obj.name!r} is linked from a library and cannot be animated here; "
                         "make it local or a library override (Object > Library Override) first.")
    scale = tuple(obj.matrix_world.to_scale())
    if max(scale) - min(scale) > 1e-4 * max(abs(v) for v in scale):
        raise ApplyError(f"armature {obj.name!r} has a non-uniform scale ({', '.join(f'{v:g}' for v in scale)}), "
                         "which shears its bones when they turn: apply the scale (Object > Apply > Scale) or make it "
                         "uniform, and apply again. Nothing was keyed.")
    if obj.mode == "EDIT":
        raise ApplyError(f"armature {obj.name!r} is in Edit Mode; switch to Object or Pose Mode and apply again.")
    if obj.animation_data is not None and obj.animation_data.use_tweak_mode:
        raise ApplyError(f"armature {obj.name!r} is in NLA tweak mode; leave tweak mode (Tab in the NLA editor) "
                         "and apply again.")


def _data_path(bone: str, prop: str) -> str:
    return f'pose.bones["{bpy.utils.escape_identifier(bone)}"].{prop}'


def apply_motion(context: bpy.types.Context, armature_obj: bpy.types.Object | None, motion: Motion,
                 options: ApplyOptions | None = None) -> ApplyReport:
    """Retarget `motion` onto `armature_obj` and key it into a new Action named after the motion.

    The new action becomes the active one (the previous active action gets a fake user so it is kept)
    or, with `as_nla_strip`, goes on a new NLA track. Keys start at the scene's current frame, at the
    scene's frame rate. Raises LavimoError subclasses, with nothing changed, on bad input.
    """
    options = options or ApplyOptions()
    _check_target(armature_obj)
    if motion is None or motion.num_frames == 0:
        name = getattr(motion, "name", None)
        raise EmptyMotionError(f"motion {name!r} has no frames; pick another clip." if motion is not None
                               else "no motion given; pick a clip to apply.")
    scene = context.scene
    fps = scene.render.fps / scene.render.fps_base
    if is_metarig(armature_obj):
        raise ApplyError(f"{armature_obj.name!r} is a Rigify metarig (the template Rigify builds a rig from), so it "
                         "has no controls to animate: generate the rig (Armature properties > Rigify > Generate "
                         "Rig), select the generated armature and apply again. Nothing was keyed.")
    whole, first, before = motion, 0, 0  # before: handle frames keyed ahead of the range's first frame
    if options.range_s is not None:
        from lavimo_core.retarget.trim import cut_range
        motion, first, before = cut_range(motion, options.range_s, options.handles, fps)
    source, source_warning = source_pose(whole, fps) if options.full_body else (None, None)
    if source is not None and motion is not whole:
        from lavimo_core.retarget.trim import cut_source_pose
        source = cut_source_pose(source, whole, motion, first, fps)
        if source is None:
            source_warning = "the range's frames did not line up with the source file; extremities follow their parents."
    retarget_options = RetargetOptions(root_motion=options.root_motion, fps=fps, floor_contact=options.floor_contact,
                                       full_body=options.full_body, foot_lock=options.foot_lock,
                                       hand_lock=options.hand_lock)
    switches: dict[tuple[str, str], float] = {}
    skipped: list[str] = []
    rigify_warnings: list[str] = []
    if is_generated_rigify(armature_obj) and not options.bone_map_overrides:
        keys = rigify_keys(armature_obj, motion, retarget_options, source, ik_limbs=options.rigify_ik)
        result, rotations, locations, switches, skipped = (keys.result, keys.rotations, keys.locations,
                                                           keys.switches, keys.skipped)
        rigify_warnings = keys.warnings
    else:
        rig = read_rig(armature_obj)
        result = solve(motion, rig, detect_bone_map(rig, options.bone_map_overrides), retarget_options, source)
        rotations, locations = result.rotations, result.locations

    if armature_obj.pose is None:  # a just-created armature has no pose until evaluated
        context.view_layer.update()
    modes = rotation_modes(armature_obj)
    warnings = list(result.report.warnings) + ([source_warning] if source_warning else []) + rigify_warnings
    if skipped:
        warnings.append("Rigify controls left unkeyed: " + ", ".join(skipped))
    channels = []
    for bone, (prop, values) in rotation_channels(rotations, modes).items():
        channels += [Channel(_data_path(bone, prop), k, bone, values[:, k]) for k in range(values.shape[1])]
    for bone, loc in locations.items():
        if armature_obj.data.bones[bone].use_connect:
            warnings.append(f"bone {bone!r} is connected to its parent, so Blender ignores its location keys; "
                            "disconnect it for root motion.")
        channels += [Channel(_data_path(bone, "location"), k, bone, loc[:, k]) for k in range(3)]
    for (bone, prop), value in switches.items():
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"]["{prop}"]'
        channels.append(Channel(path, 0, bone, np.full(result.num_frames, value)))
    for bone in rotations if not switches else ():
        pose_bone = armature_obj.pose.bones[bone]
        if not armature_obj.data.bones[bone].use_inherit_rotation:
            warnings.append(f"bone {bone!r} does not inherit rotation; its keys assume it does.")
        if pose_bone.constraints and any(c.enabled and c.influence > 0 for c in pose_bone.constraints):
            warnings.append(f"bone {bone!r} has constraints that may override the keys.")
    start = scene.frame_current if options.frame_start is None else int(options.frame_start)
    start -= before
    frames = start + np.arange(result.num_frames, dtype=np.float64)

    created_anim_data = armature_obj.animation_data is None
    anim = armature_obj.animation_data
    previous = anim.action if anim is not None else None
    previous_fake_user = previous.use_fake_user if previous is not None else False
    previous_slot = anim.action_slot if anim is not None and previous is not None else None
    action = track = None
    try:
        action, slot, channelbag = new_action(motion.name or "LAVIMO motion", armature_obj.name)
        num_keys = write_channels(channelbag, channels, frames)
        anim = armature_obj.animation_data_create()
        if options.as_nla_strip:
            track = anim.nla_tracks.new()
            track.name = action.name
            strip = track.strips.new(action.name, start, action)
            if strip.action_slot != slot:
                strip.action_slot = slot
        else:
            if previous is not None:
                previous.use_fake_user = True
            anim.action = action
            if anim.action_slot != slot:
                anim.action_slot = slot
    except Exception:
        if track is not None:
            anim.nla_tracks.remove(track)
        if created_anim_data:
            armature_obj.animation_data_clear()
        elif not options.as_nla_strip and anim is not None:
            anim.action = previous
            if previous is not None:
                if previous_slot is not None and anim.action_slot != previous_slot:
                    anim.action_slot = previous_slot
                previous.use_fake_user = previous_fake_user
        if action is not None:
            bpy.data.actions.remove(action)
        raise

    return ApplyReport(
        action_name=action.name, slot_identifier=slot.identifier, frame_start=start,
        frame_end=start + result.num_frames - 1, fps=fps, num_keys=num_keys, keyed_bones=sorted(rotations),
        bone_map=result.report.bone_map, retarget=result.report,
        previous_action=previous.name if previous is not None and not options.as_nla_strip else None,
        nla_track=track.name if track is not None else None, warnings=warnings)
