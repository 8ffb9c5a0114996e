"""The LAVIMO sidebar panel (3D Viewport > Sidebar > LAVIMO), the results list and the video drop handler."""

from __future__ import annotations

import bpy
from bpy.types import FileHandler, Panel, UIList

from .. import activity, thumbnails
from ..deps import ui as deps_ui
from ..prefs import addon_prefs, settings
from . import ops, preview
from .props import VIDEO_EXTENSIONS, has_range, state


class LAVIMO_UL_results(UIList):
    """Search results: thumbnail, name, calibrated score, duration, caption or labels."""

    bl_idname = "LAVIMO_UL_results"

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        row = layout.row(align=True)
        row.active = item.good  # below the no-good-match threshold: drawn greyed out
        icon_value = thumbnails.icon_id(item.thumbnail)
        split = row.split(factor=0.62)
        if icon_value:
            split.label(text=item.name, icon_value=icon_value)
        else:
            split.label(text=item.name, icon='ARMATURE_DATA')
        right = split.row(align=True)
        right.label(text=f"{item.probability:.0%}")
        right.label(text=range_text(item))


class LAVIMO_PT_search(Panel):
    bl_idname = "LAVIMO_PT_search"
    bl_label = "LAVIMO"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "LAVIMO"

    def draw(self, context):
        layout = self.layout
        s = state(context)
        deps_ui.draw(layout, context)
        _draw_store(layout, context)

        col = layout.column(align=True)
        col.prop(s, "prompt", text="", icon='VIEWZOOM', placeholder="a person waves with the left hand")
        col.operator(ops.LAVIMO_OT_search_text.bl_idname, icon='VIEWZOOM')

        col = layout.column(align=True)
        col.prop(s, "video_path", text="")
        col.operator(ops.LAVIMO_OT_search_video.bl_idname, icon='FILE_MOVIE')

        layout.operator(ops.LAVIMO_OT_find_similar.bl_idname, icon='ACTION')
        activity.draw(layout, "search", context)


class LAVIMO_PT_results(Panel):
    bl_idname = "LAVIMO_PT_results"
    bl_label = "Results"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "LAVIMO"
    bl_parent_id = "LAVIMO_PT_search"

    def draw(self, context):
        layout = self.layout
        s = state(context)
        if not s.results:
            layout.label(text="Search to list matching motions")
            return
        if s.query_label:
            layout.label(text=s.query_label, icon='INFO')
        known = s.library_probability >= 0.0  # negative: a model without this calibration
        if s.no_match:
            box = layout.box()
            box.alert = True
            box.label(text="No good match in this library", icon='ERROR')
            if known:
                box.label(text=f"Library has a match: {s.library_probability:.0%}")
            box.label(text="The closest motions are listed greyed out")
        elif known:
            layout.label(text=f"Library has a match: {s.library_probability:.0%}")
        layout.template_list("LAVIMO_UL_results", "", s, "results", s, "result_index", rows=5,
                             item_dyntip_propname="caption")
        preview.panel_drawn()  # a preview lasts while this panel is drawn
        row = layout.row()
        row.prop(s, "preview", icon='PLAY' if not s.preview else 'PAUSE', toggle=True)
        if preview.message:
            layout.label(text=preview.message, icon='INFO')
        if 0 <= s.result_index < len(s.results):
            _draw_selected(layout, s.results[s.result_index])


def _draw_store(layout, context) -> None:
    path = settings(context).store_path
    row = layout.row(align=True)
    if not path:
        row.alert = True
        row.label(text="No store: add one in Preferences or index a folder", icon='ERROR')
    else:
        row.label(text=bpy.path.basename(path.rstrip("/\\")) or path, icon='ASSET_MANAGER')
    prefs = addon_prefs(context)
    if prefs is not None and len(prefs.stores) > 1:
        row.menu(LAVIMO_MT_stores.bl_idname, text="", icon='DOWNARROW_HLT')


def range_text(item) -> str:
    """"12.4–15.1 s" for a moment inside a longer motion, "3.2 s" for a whole clip."""
    if has_range(item):
        return f"{item.range_start:.1f}–{item.range_end:.1f} s"
    return f"{item.duration:.1f} s"


def draw_timeline(layout, item) -> None:
    """The take as a bar with the moment's range highlighted (before | range | after, to scale)."""
    if not has_range(item) or item.duration <= 0:
        return
    row = layout.row(align=True)
    a, b = item.range_start / item.duration, item.range_end / item.duration
    left = row.split(factor=max(a, 0.02), align=True)
    left.box().label(text="")
    middle = left.split(factor=max(min((b - a) / max(1 - a, 1e-6), 1.0), 0.05), align=True)
    hit = middle.box()
    hit.alert = True
    hit.label(text=f"{item.range_start:.1f}–{item.range_end:.1f} s")
    middle.box().label(text=f"{item.duration:.0f} s")


def _draw_selected(layout, item) -> None:
    box = layout.box()
    icon_value = thumbnails.icon_id(item.thumbnail)
    if icon_value:
        box.template_icon(icon_value=icon_value, scale=6.0)
    col = box.column(align=True)
    col.label(text=f"{item.name}: {item.probability:.0%} match (cosine {item.score:.2f}), {range_text(item)}")
    draw_timeline(col, item)
    if item.caption:
        col.label(text=item.caption)
    if item.labels:
        col.label(text=item.labels)
    if item.folded:
        col.label(text=f"+{item.folded} near-identical take(s) or mirror image(s)")


class LAVIMO_MT_stores(bpy.types.Menu):
    bl_idname = "LAVIMO_MT_stores"
    bl_label = "Stores"

    def draw(self, context):
        prefs = addon_prefs(context)
        for i, item in enumerate(prefs.stores if prefs else ()):
            self.layout.operator("lavimo.store_use", text=item.path).index = i


class LAVIMO_FH_video(FileHandler):
    """Drop a video onto the 3D viewport to search for its motion."""

    bl_idname = "LAVIMO_FH_video"
    bl_label = "LAVIMO: search by video"
    bl_import_operator = "lavimo.drop_video"
    bl_file_extensions = ";".join(VIDEO_EXTENSIONS)

    @classmethod
    def poll_drop(cls, context):
        return context.area is not None and context.area.type == 'VIEW_3D'


_classes = (LAVIMO_UL_results, LAVIMO_MT_stores, LAVIMO_PT_search, LAVIMO_PT_results, LAVIMO_FH_video)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
