"""Apply a search result to the active armature (retargeting by `apply_motion`), and fill the bone-map overrides."""

from __future__ import annotations

import bpy
from bpy.props import IntProperty
from bpy.types import Operator

from .. import engine_session
from ..deps import check
from ..errors import describe
from ..search.props import state
from . import props


def apply_options(scene, item=None):
    """ApplyOptions from the scene's apply settings (and result `item`'s range, if it is a moment)."""
    from ..search.props import has_range
    from .core import ApplyOptions

    p = scene.lavimo_apply
    return ApplyOptions(root_motion=p.root_motion, frame_start=None if p.use_current_frame else p.frame_start,
                        as_nla_strip=p.as_nla_strip, bone_map_overrides=props.overrides(p) or None,
                        floor_contact=p.floor_contact, full_body=p.full_body, foot_lock=p.foot_lock,
                        hand_lock=p.hand_lock, rigify_ik=p.rigify_ik, handles=p.handles,
                        range_s=(item.range_start, item.range_end) if item is not None and has_range(item) else None)


def apply_result(context, armature_obj, item, options=None):
    """Load result `item`'s motion from its store and apply it (its range only, if it has one); returns the
    ApplyReport (raises LavimoError)."""
    from ..search import preview
    from .core import apply_motion

    preview.stop(context)  # the rig shows the applied keys, not the preview's temporary action
    store = engine_session.store_for(item.store_path)
    motion = store.motion(item.motion_id)
    return apply_motion(context, armature_obj, motion, options or apply_options(context.scene, item))


class LAVIMO_OT_apply(Operator):
    """Retarget the selected result onto the active armature as a new action"""

    bl_idname = "lavimo.apply"
    bl_label = "Apply to Armature"
    bl_options = {'REGISTER', 'UNDO'}

    index: IntProperty(name="Result", default=-1, options={'SKIP_SAVE'},
                       description="Which result to apply (-1: the one selected in the list)")

    def execute(self, context):
        s = state(context)
        index = s.result_index if self.index < 0 else self.index
        if not s.results:
            self.report({'ERROR'}, "No results to apply: search first (text, video or Find similar)")
            return {'CANCELLED'}
        if not 0 <= index < len(s.results):
            self.report({'ERROR'}, f"No result number {index + 1}: the list has {len(s.results)}")
            return {'CANCELLED'}
        missing = check.missing("apply")
        if missing:
            self.report({'ERROR'}, check.missing_message("apply", missing))
            return {'CANCELLED'}
        try:
            report = apply_result(context, context.active_object, s.results[index])
        except Exception as exc:  # apply_motion changes nothing when it fails
            self.report({'ERROR'}, describe(exc))
            return {'CANCELLED'}
        for warning in report.warnings:
            self.report({'WARNING'}, warning)
        self.report({'INFO'}, report.summary())
        return {'FINISHED'}


class LAVIMO_OT_detect_bones(Operator):
    """List the canonical joints with the bones detected for them on the active armature, to override"""

    bl_idname = "lavimo.detect_bones"
    bl_label = "Detect Bones"
    bl_options = {'REGISTER', 'UNDO'}

    def execute(self, context):
        obj = context.active_object
        if obj is None or obj.type != 'ARMATURE':
            self.report({'ERROR'}, "Select an armature to detect its bones")
            return {'CANCELLED'}
        from lavimo_core.motion.skeleton import JOINT_NAMES
        from lavimo_core.retarget import detect_bone_map

        from .rig import read_rig

        bone_map = detect_bone_map(read_rig(obj), strict=False)
        items = context.scene.lavimo_apply.bone_overrides
        items.clear()
        for joint in JOINT_NAMES:
            item = items.add()
            item.name = joint
            item.bone = bone_map.joints.get(joint, "")
        missing = bone_map.missing_required()
        if missing:
            self.report({'WARNING'}, f"{bone_map.preset} naming; pick bones for: {', '.join(missing)}")
        else:
            self.report({'INFO'}, f"{len(bone_map.joints)}/{len(JOINT_NAMES)} joints found ({bone_map.preset} naming)")
        return {'FINISHED'}


class LAVIMO_OT_clear_bones(Operator):
    """Forget the bone-map overrides (bones are detected automatically again)"""

    bl_idname = "lavimo.clear_bones"
    bl_label = "Clear Overrides"
    bl_options = {'REGISTER', 'UNDO'}

    def execute(self, context):
        context.scene.lavimo_apply.bone_overrides.clear()
        return {'FINISHED'}


_classes = (LAVIMO_OT_apply, LAVIMO_OT_detect_bones, LAVIMO_OT_clear_bones)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
