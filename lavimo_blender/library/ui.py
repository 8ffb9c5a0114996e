"""The Library sub-panel: index a folder of your own BVH files, with progress."""

from __future__ import annotations

import bpy
from bpy.types import Panel

from .. import activity
from . import ops


class LAVIMO_PT_library(Panel):
    bl_idname = "LAVIMO_PT_library"
    bl_label = "Library"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "LAVIMO"
    bl_parent_id = "LAVIMO_PT_search"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context):
        layout = self.layout
        lib = context.window_manager.lavimo_library
        col = layout.column(align=True)
        col.prop(lib, "folder", text="")
        col.prop(lib, "store_path", text="", placeholder="Store (default: inside the folder)")
        state = activity.slot("index", context)
        row = layout.row()
        row.enabled = not state.busy
        row.operator(ops.LAVIMO_OT_index_folder.bl_idname, icon='FILE_FOLDER')
        activity.draw(layout, "index", context)


def register() -> None:
    """Register the panel."""
    bpy.utils.register_class(LAVIMO_PT_library)


def unregister() -> None:
    """Unregister it."""
    bpy.utils.unregister_class(LAVIMO_PT_library)
