"""Build the test/demo armatures of `lavimo_core.retarget.rig_presets` in a Blender scene."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import bpy

from lavimo_core.retarget.rig_presets import PRESET_NAMES, rig_preset

__all__ = ["PRESET_NAMES", "build_armature"]


def build_armature(preset_name: str, *, context: bpy.types.Context | None = None, name: str | None = None,
                   location: Sequence[float] = (0.0, 0.0, 0.0), rotation: Sequence[float] | None = None,
                   scale: float | None = None, rotation_modes: str | Mapping[str, str] | None = None
                   ) -> bpy.types.Object:
    """Add armature `preset_name` (one of PRESET_NAMES: Mixamo-, Rigify-, ..., Auto-Rig Pro-like) to the scene.

    `rotation` (XYZ Euler, radians) and `scale` (uniform) default to the preset's own (Mixamo: the FBX
    import's 90 degrees about X and 0.01); `rotation_modes` sets pose bones' rotation modes: one mode for
    all bones, or bone name -> mode.
    """
    context = context or bpy.context
    preset = rig_preset(preset_name)
    name = name or preset_name
    armature = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, armature)
    context.scene.collection.objects.link(obj)
    obj.location = location
    obj.rotation_euler = preset.object_rotation if rotation is None else rotation
    obj.scale = (preset.object_scale if scale is None else scale,) * 3

    view_layer = context.view_layer
    was_active = view_layer.objects.active
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        edit_bones = armature.edit_bones
        for spec in preset.bones:
            bone = edit_bones.new(spec.name)
            bone.head, bone.tail, bone.roll = spec.head, spec.tail, spec.roll
        for spec in preset.bones:
            if spec.parent:
                bone = edit_bones[spec.name]
                bone.parent = edit_bones[spec.parent]
                bone.use_connect = spec.connect
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = was_active
    view_layer.update()

    if rotation_modes:
        modes = {b.name: rotation_modes for b in preset.bones} if isinstance(rotation_modes, str) else rotation_modes
        for bone, mode in modes.items():
            obj.pose.bones[bone].rotation_mode = mode
    return obj
