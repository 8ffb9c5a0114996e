"""Preview a result on the active armature before committing: a temporary action, then everything put back.

Starting a preview retargets the hit (its range, if it has one) into a new action with `apply_motion`,
makes it the armature's active action, sets the scene's preview range to it and plays it. Nothing of the
user's is changed for good: the previous active action and slot, the previous action's fake-user flag,
the current frame, the preview range and playback are recorded first and restored by `stop`, which also
deletes the temporary action (and the animation data, if the armature had none).

A watchdog timer stops the preview when the armature is deleted, another object becomes active, the
selected result changes to one not previewed, or the results panel stops being drawn (closed or
collapsed). The temporary action carries the custom property `lavimo_preview`, so one left by a crash or
an undo is found and removed by the next `stop`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import bpy

MARK = "lavimo_preview"  # custom property on the temporary action
WATCH_S = 0.25  # how often the watchdog looks
PANEL_GONE_S = 1.0  # the results panel not drawn for this long: closed or collapsed


@dataclass
class _Saved:
    """What a preview changes, as it was before, to put back exactly."""

    armature: str
    pointer: int
    action: str  # the temporary action
    key: tuple  # which result is previewed (store, motion id, range)
    had_anim_data: bool
    previous_action: str | None
    previous_slot: str | None
    frame: tuple[int, float]
    preview_range: tuple[bool, int, int]
    playing: bool
    pose: dict  # pose-bone channel -> flat values: evaluation writes the preview's pose into the bones


_active: _Saved | None = None
_panel_drawn_at: float | None = None
message = ""  # the last thing the preview has to tell the user (shown in the panel)


def active_key() -> tuple | None:
    """Which result is being previewed (None: no preview)."""
    return _active.key if _active is not None else None


def panel_drawn() -> None:
    """Called by the results panel's draw: while it is drawn, the preview may stay."""
    global _panel_drawn_at
    _panel_drawn_at = time.monotonic()


def start(context, armature, motion, key: tuple, range_s: tuple[float, float] | None = None) -> str:
    """Preview `motion` (its `range_s` seconds, if given) on `armature`; returns a one-line summary.

    Raises LavimoError with the scene unchanged when the motion cannot be applied (the same checks as Apply).
    """
    global _active, message
    from ..apply.core import apply_motion
    from ..apply.ops import apply_options

    stop(context)
    scene = context.scene
    anim = armature.animation_data if armature is not None else None
    previous = anim.action if anim is not None else None
    saved = _Saved(armature=getattr(armature, "name", ""), pointer=armature.as_pointer() if armature else 0,
                   action="", key=key, had_anim_data=anim is not None,
                   previous_action=previous.name if previous is not None else None,
                   previous_slot=anim.action_slot.identifier if previous is not None and anim.action_slot else None,
                   frame=(scene.frame_current, scene.frame_subframe),
                   preview_range=(scene.use_preview_range, scene.frame_preview_start, scene.frame_preview_end),
                   playing=bool(context.screen and context.screen.is_animation_playing),
                   pose=_read_pose(armature))
    fake_user = previous.use_fake_user if previous is not None else False
    options = apply_options(scene)
    options.frame_start, options.as_nla_strip, options.range_s, options.handles = scene.frame_current, False, range_s, 0
    report = apply_motion(context, armature, motion, options)
    if previous is not None:
        previous.use_fake_user = fake_user  # Apply keeps the replaced action with a fake user; a preview replaces nothing
    action = bpy.data.actions[report.action_name]
    action[MARK] = True
    saved.action = action.name
    _active = saved
    scene.use_preview_range = True
    scene.frame_preview_start, scene.frame_preview_end = report.frame_start, max(report.frame_end, report.frame_start + 1)
    if context.screen is not None and not context.screen.is_animation_playing:
        bpy.ops.screen.animation_play()
    if not bpy.app.timers.is_registered(_watch):
        bpy.app.timers.register(_watch, first_interval=WATCH_S)
    message = f"Previewing {motion.name} on {armature.name}: frames {report.frame_start}-{report.frame_end}"
    return message


def preview_selected(context) -> str:
    """Preview the selected result on the active object; problems become `message` (never an exception)."""
    global message
    from lavimo_core.errors import LavimoError

    from .. import engine_session
    from .props import has_range, state

    s = state(context)
    if not 0 <= s.result_index < len(s.results):
        stop(context)
        return message
    item = s.results[s.result_index]
    try:
        motion = engine_session.store_for(item.store_path).motion(item.motion_id)
        return start(context, context.view_layer.objects.active, motion, result_key(item),
                     (item.range_start, item.range_end) if has_range(item) else None)
    except LavimoError as exc:
        stop(context)
        message = f"Cannot preview {item.name}: {exc}"
        return message


def stop(context=None, reason: str = "") -> bool:
    """End the preview (if any) and put back what it changed; returns whether one was running."""
    global _active, message, _panel_drawn_at
    context = context or bpy.context
    saved, _active, _panel_drawn_at = _active, None, None
    _remove_leftovers(exclude=saved.action if saved else None)
    if saved is None:
        return False
    scene = context.scene
    screen = getattr(context, "screen", None)
    if screen is not None and screen.is_animation_playing and not saved.playing:
        bpy.ops.screen.animation_cancel(restore_frame=False)
    obj = bpy.data.objects.get(saved.armature)
    if obj is not None and obj.as_pointer() == saved.pointer:
        anim = obj.animation_data
        if anim is not None:
            if not saved.had_anim_data:
                obj.animation_data_clear()
            else:
                previous = bpy.data.actions.get(saved.previous_action) if saved.previous_action else None
                anim.action = previous
                if previous is not None and saved.previous_slot:
                    slot = next((s for s in previous.slots if s.identifier == saved.previous_slot), None)
                    if slot is not None and anim.action_slot != slot:
                        anim.action_slot = slot
    elif not reason:
        reason = f"armature {saved.armature!r} was deleted while previewing; preview removed"
    action = bpy.data.actions.get(saved.action)
    if action is not None and action.get(MARK):
        bpy.data.actions.remove(action)
    scene.use_preview_range, scene.frame_preview_start, scene.frame_preview_end = saved.preview_range
    if obj is not None and obj.as_pointer() == saved.pointer:
        _write_pose(obj, saved.pose)
    scene.frame_set(saved.frame[0], subframe=saved.frame[1])
    message = reason
    return True


def shutdown() -> None:
    """End any preview and its watchdog (the add-on is being disabled)."""
    stop()
    if bpy.app.timers.is_registered(_watch):
        bpy.app.timers.unregister(_watch)


def check(context=None) -> str:
    """Stop the preview if its armature, the active object or the selected result changed; returns why."""
    if _active is None:
        return ""
    context = context or bpy.context
    obj = bpy.data.objects.get(_active.armature)
    if obj is None or obj.as_pointer() != _active.pointer:
        reason = f"armature {_active.armature!r} was deleted while previewing; preview removed"
    elif getattr(context.view_layer.objects.active, "name", None) != _active.armature:
        reason = "another object was selected; preview removed"
    elif _selected_key(context) != _active.key:
        reason = "the selected result changed; preview removed"
    elif _panel_drawn_at is not None and time.monotonic() - _panel_drawn_at > PANEL_GONE_S:
        reason = "the results panel was closed; preview removed"
    else:
        return ""
    stop(context, reason)
    return reason


def _selected_key(context) -> tuple | None:
    from .props import state
    s = state(context)
    if not 0 <= s.result_index < len(s.results):
        return None
    return result_key(s.results[s.result_index])


def result_key(item) -> tuple:
    """What identifies a listed result for the preview: store, motion id and range."""
    return (item.store_path, item.motion_id, round(item.range_start, 3), round(item.range_end, 3))


def _watch() -> float | None:
    if _active is None:
        return None
    try:
        check(bpy.context)
    except Exception as exc:  # a timer must not raise into Blender; end the preview instead
        print(f"LAVIMO: preview stopped ({exc})")
        stop(bpy.context, f"preview stopped: {exc}")
    return WATCH_S if _active is not None else None


_POSE_CHANNELS = (("location", 3), ("rotation_quaternion", 4), ("rotation_euler", 3), ("rotation_axis_angle", 4),
                  ("scale", 3))


def _read_pose(armature) -> dict:
    if armature is None or armature.type != "ARMATURE" or armature.pose is None:
        return {}
    import numpy as np
    bones = armature.pose.bones
    out = {}
    for name, size in _POSE_CHANNELS:
        buf = np.empty(len(bones) * size, dtype=np.float32)
        bones.foreach_get(name, buf)
        out[name] = buf
    return out


def _write_pose(armature, pose: dict) -> None:
    if armature.pose is None:
        return
    for name, values in pose.items():
        if len(values) == len(armature.pose.bones) * dict(_POSE_CHANNELS)[name]:
            armature.pose.bones.foreach_set(name, values)


def _remove_leftovers(exclude: str | None) -> None:
    for action in [a for a in bpy.data.actions if a.get(MARK) and a.name != exclude and a.users == 0]:
        bpy.data.actions.remove(action)
