"""The Apply sub-panel: target, options, bone-map overrides and the Apply button."""

from __future__ import annotations

import bpy
from bpy.types import Panel

from ..search.props import state
from . import ops


class LAVIMO_PT_apply(Panel):
    bl_idname = "LAVIMO_PT_apply"
    bl_label = "Apply"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "LAVIMO"
    bl_parent_id = "LAVIMO_PT_search"

    def draw(self, context):
        layout = self.layout
        p = context.scene.lavimo_apply
        obj = context.active_object
        row = layout.row()
        if obj is not None and obj.type == 'ARMATURE':
            row.label(text=obj.name, icon='ARMATURE_DATA')
        else:
            row.alert = True
            row.label(text="Select an armature", icon='ERROR')
        col = layout.column()
        col.use_property_split = True
        col.prop(p, "root_motion")
        col.prop(p, "use_current_frame")
        sub = col.row()
        sub.enabled = not p.use_current_frame
        sub.prop(p, "frame_start")
        col.prop(p, "as_nla_strip")
        col.prop(p, "floor_contact")
        col.prop(p, "handles")
        col.prop(p, "full_body")
        col.prop(p, "foot_lock")
        col.prop(p, "hand_lock")
        col.prop(p, "rigify_ik")
        s = state(context)
        row = layout.row()
        row.scale_y = 1.4
        row.enabled = bool(s.results)
        row.operator(ops.LAVIMO_OT_apply.bl_idname, icon='PLAY')


class LAVIMO_PT_bone_map(Panel):
    bl_idname = "LAVIMO_PT_bone_map"
    bl_label = "Bone Map"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "LAVIMO"
    bl_parent_id = "LAVIMO_PT_apply"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        layout = self.layout
        p = context.scene.lavimo_apply
        row = layout.row(align=True)
        row.operator(ops.LAVIMO_OT_detect_bones.bl_idname, icon='BONE_DATA')
        row.operator(ops.LAVIMO_OT_clear_bones.bl_idname, text="", icon='X')
        obj = context.active_object
        armature = obj.data if obj is not None and obj.type == 'ARMATURE' else None
        col = layout.column(align=True)
        for item in p.bone_overrides:
            if armature is not None:
                col.prop_search(item, "bone", armature, "bones", text=item.name)
            else:
                col.prop(item, "bone", text=item.name)
        if not p.bone_overrides:
            layout.label(text="Bones are detected from their names")


_classes = (LAVIMO_PT_apply, LAVIMO_PT_bone_map)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
