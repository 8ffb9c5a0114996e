"""Fast keyframe writing into a new slotted Action (Blender 4.4+ layered actions; 5.0 has no Action.fcurves).

Keys go in with `keyframe_points.add(n)` + `foreach_set`, one call per F-curve instead of one
`keyframe_insert` per key, and no operator runs, so writing pushes no undo step of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

_LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


@dataclass
class Channel:
    """One F-curve to write: RNA path, array index, channel group (the bone name), values (K,)."""

    data_path: str
    index: int
    group: str
    values: np.ndarray


def new_action(name: str, id_name: str) -> tuple[bpy.types.Action, bpy.types.ActionSlot, bpy.types.ActionChannelbag]:
    """A new Action `name` with one object slot (named after `id_name`), one layer, one keyframe strip."""
    action = bpy.data.actions.new(name)
    slot = action.slots.new(id_type="OBJECT", name=id_name)
    strip = action.layers.new("Layer").strips.new(type="KEYFRAME")
    return action, slot, strip.channelbag(slot, ensure=True)


def write_channels(channelbag: bpy.types.ActionChannelbag, channels: list[Channel], frames: np.ndarray) -> int:
    """Write every channel's values at `frames` (K,) with linear interpolation; returns the number of keys."""
    frames = np.asarray(frames, dtype=np.float32)
    k = len(frames)
    co = np.empty(2 * k, dtype=np.float32)
    co[0::2] = frames
    interpolation = np.full(k, _LINEAR, dtype=np.int32)
    groups: dict[str, bpy.types.ActionGroup] = {}
    for ch in channels:
        fcurve = channelbag.fcurves.new(ch.data_path, index=ch.index)
        if ch.group not in groups:
            groups[ch.group] = channelbag.groups.new(ch.group)
        fcurve.group = groups[ch.group]
        points = fcurve.keyframe_points
        points.add(k)
        co[1::2] = ch.values
        points.foreach_set("co", co)
        points.foreach_set("interpolation", interpolation)
        fcurve.update()
    return k * len(channels)
