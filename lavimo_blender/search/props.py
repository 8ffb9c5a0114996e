"""What the panel shows: the query fields, the results of the last search and the state of work in flight."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, CollectionProperty, FloatProperty, IntProperty, PointerProperty, StringProperty
from bpy.types import PropertyGroup

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi")


class LAVIMO_PG_result(PropertyGroup):
    """One hit of the last search (name is the motion's name)."""

    motion_id: StringProperty()
    store_path: StringProperty(description="The store this motion comes from")
    score: FloatProperty(description="Cosine similarity between query and motion")
    probability: FloatProperty(description="Calibrated chance that this motion matches the query", subtype='FACTOR')
    good: BoolProperty(description="Above the model's no-good-match threshold")
    duration: FloatProperty(unit='TIME_ABSOLUTE', subtype='TIME_ABSOLUTE')
    caption: StringProperty()
    labels: StringProperty()
    source: StringProperty()
    folded: IntProperty(description="Near-identical takes and mirror images folded into this result")
    folded_ids: StringProperty(description="Motion ids of the folded takes, comma-separated")
    thumbnail: StringProperty(description="Key of the result's pose-strip icon")
    range_start: FloatProperty(unit='TIME_ABSOLUTE', subtype='TIME_ABSOLUTE',
                               description="Where the matching moment starts in the motion (seconds)")
    range_end: FloatProperty(unit='TIME_ABSOLUTE', subtype='TIME_ABSOLUTE',
                             description="Where the matching moment ends (seconds; 0: the whole motion)")


def has_range(item) -> bool:
    """Whether the result is a moment inside a longer motion (else the whole clip)."""
    return item.range_end > item.range_start and (item.range_start > 1e-3 or item.range_end < item.duration - 1e-3)


def _selected(self, context) -> None:
    if self.preview:
        from .preview import preview_selected
        preview_selected(context)


def _toggled(self, context) -> None:
    from . import preview
    if self.preview:
        preview.preview_selected(context)
    else:
        preview.stop(context)


class LAVIMO_PG_search(PropertyGroup):
    """Session state on the window manager (not saved in the .blend)."""

    prompt: StringProperty(name="Prompt", description="Describe the motion, e.g. \"a person waves with the left hand\"")
    video_path: StringProperty(name="Video", subtype='FILE_PATH', description="A reference video of a person moving")
    results: CollectionProperty(type=LAVIMO_PG_result)
    result_index: IntProperty(name="Result", default=0, update=_selected)
    preview: BoolProperty(name="Preview on Rig", default=False, update=_toggled,
                          description="Play the selected result on the active armature in a temporary action; "
                          "your actions, NLA tracks and current frame are put back when it ends")
    query_label: StringProperty(description="What the shown results answer")
    no_match: BoolProperty(description="Even the best result is below the no-good-match threshold")
    library_probability: FloatProperty(default=-1.0, description="Calibrated chance that the library holds a match "
                                       "for the query, from its best result (negative: unknown to this model)")


_classes = (LAVIMO_PG_result, LAVIMO_PG_search)


def state(context=None) -> LAVIMO_PG_search:
    """The add-on's session state."""
    return (context or bpy.context).window_manager.lavimo


_register_classes, _unregister_classes = bpy.utils.register_classes_factory(_classes)


def register() -> None:
    """Register the property groups and attach the state to the window manager."""
    _register_classes()
    bpy.types.WindowManager.lavimo = PointerProperty(type=LAVIMO_PG_search)


def unregister() -> None:
    """Detach and unregister."""
    del bpy.types.WindowManager.lavimo
    _unregister_classes()
