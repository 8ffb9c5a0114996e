"""Search operators: by text, by video (field, file browser or drag-and-drop), and "Find similar" for an action."""

from __future__ import annotations

import os
from pathlib import Path

import bpy
from bpy.props import CollectionProperty, StringProperty
from bpy.types import Operator, OperatorFileListElement

from .. import activity, bridge, engine_session
from ..deps import check
from ..errors import describe
from ..prefs import Settings, settings
from . import query
from .props import VIDEO_EXTENSIONS, state


def ready(op: Operator, context, feature: str) -> Settings | None:
    """The settings to run `feature` with, or None after reporting why it cannot run (packages, model, store)."""
    missing = check.missing(feature)
    if missing:
        op.report({'ERROR'}, check.missing_message(feature, missing))
        return None
    current = settings(context)
    try:
        engine_session.check_paths(current.model_path, current.store_path)
    except engine_session.SetupError as exc:
        op.report({'ERROR'}, str(exc))
        return None
    return current


def finish(op: Operator, job: bridge.Job, outcome: query.Outcome) -> set[str]:
    """In the UI: return at once (the panel shows progress). In background mode: wait and report the outcome."""
    if not bridge.is_synchronous():
        return {'FINISHED'}
    bridge.wait(job)
    if outcome.error:
        op.report({'ERROR'}, outcome.error)
        return {'CANCELLED'}
    result = outcome.result
    if result is None:
        op.report({'WARNING'}, "Search cancelled")
        return {'CANCELLED'}
    for notice in result.notices:
        op.report({'WARNING'}, notice)
    best = f"; best: {result.hits[0].name}" if result.hits else ""
    op.report({'INFO'}, f"{len(result.hits)} motions{best}" + (" (no good match)" if result.no_match else ""))
    return {'FINISHED'}


def check_video(path: str) -> str:
    """An error message for a video path that cannot be searched, or "" if it looks usable."""
    if not path:
        return "No video chosen: pick a video file in the LAVIMO panel, or drop one onto the 3D viewport"
    if not os.path.isfile(path):
        return f"Video not found: {path}"
    if Path(path).suffix.lower() not in VIDEO_EXTENSIONS:
        return f"Not a video file LAVIMO reads: {Path(path).name}; use {', '.join(VIDEO_EXTENSIONS)}"
    from lavimo_core.video.decode import probe

    try:
        probe(path)  # header + one frame: catches unreadable files before any work starts
    except Exception as exc:
        return describe(exc)
    return ""


def start_video_search(op: Operator, context, path: str) -> set[str]:
    """Validate `path` and search by it (shared by the panel button and drag-and-drop)."""
    path = bpy.path.abspath(path)
    current = ready(op, context, "video")
    if current is None:
        return {'CANCELLED'}
    error = check_video(path)
    if error:
        op.report({'ERROR'}, error)
        return {'CANCELLED'}
    from lavimo_core.query import VideoQuery

    state(context).video_path = path
    outcome = query.Outcome()
    job = query.start(context, current, VideoQuery(path), f"Video: {Path(path).name}", outcome)
    return finish(op, job, outcome)


class LAVIMO_OT_search_text(Operator):
    """Find motions that match the prompt"""

    bl_idname = "lavimo.search_text"
    bl_label = "Search"
    bl_options = {'REGISTER'}

    prompt: StringProperty(name="Prompt", description="Use this prompt instead of the panel's",
                           options={'SKIP_SAVE'})

    def execute(self, context):
        s = state(context)
        text = " ".join((self.prompt or s.prompt).split())
        if not text:
            self.report({'ERROR'}, "The prompt is empty: describe the motion, e.g. \"a person jumps forward\"")
            return {'CANCELLED'}
        current = ready(self, context, "text")
        if current is None:
            return {'CANCELLED'}
        from lavimo_core.query import TextQuery

        s.prompt = text
        outcome = query.Outcome()
        job = query.start(context, current, TextQuery(text), f"Text: {text}", outcome)
        return finish(self, job, outcome)


class LAVIMO_OT_search_video(Operator):
    """Find motions that match the person moving in the video"""

    bl_idname = "lavimo.search_video"
    bl_label = "Search by Video"
    bl_options = {'REGISTER'}

    filepath: StringProperty(subtype='FILE_PATH', options={'SKIP_SAVE'},
                             description="Use this video instead of the panel's")

    def execute(self, context):
        return start_video_search(self, context, self.filepath or state(context).video_path)


class LAVIMO_OT_drop_video(Operator):
    """Search motions by a video file dropped onto the 3D viewport"""

    bl_idname = "lavimo.drop_video"
    bl_label = "Search by Dropped Video"
    bl_options = {'REGISTER', 'INTERNAL'}

    filepath: StringProperty(subtype='FILE_PATH', options={'SKIP_SAVE'})
    directory: StringProperty(subtype='DIR_PATH', options={'SKIP_SAVE'})
    files: CollectionProperty(type=OperatorFileListElement, options={'SKIP_SAVE', 'HIDDEN'})
    filter_glob: StringProperty(default="*" + ";*".join(VIDEO_EXTENSIONS), options={'HIDDEN'})

    def _paths(self) -> list[str]:
        if self.directory and len(self.files):
            return [os.path.join(self.directory, f.name) for f in self.files if f.name]
        return [self.filepath] if self.filepath else []

    def invoke(self, context, event):
        if self._paths():  # dropped: search right away
            return self.execute(context)
        context.window_manager.fileselect_add(self)
        return {'RUNNING_MODAL'}

    def execute(self, context):
        paths = self._paths()
        if len(paths) > 1:
            self.report({'WARNING'}, f"{len(paths)} files dropped; searching by the first, {Path(paths[0]).name}")
        return start_video_search(self, context, paths[0] if paths else "")


class LAVIMO_OT_find_similar(Operator):
    """Find library motions similar to the active armature's current action"""

    bl_idname = "lavimo.find_similar"
    bl_label = "Find Similar"
    bl_options = {'REGISTER'}

    def execute(self, context):
        from . import action_motion

        obj = context.active_object
        try:
            action = action_motion.check_target(obj)
            action_motion.bones_for_joints(obj)  # too few recognisable bones: say so before any work
        except Exception as exc:
            self.report({'ERROR'}, describe(exc))
            return {'CANCELLED'}
        current = ready(self, context, "motion")
        if current is None:
            return {'CANCELLED'}
        from lavimo_core.query import MotionQuery

        outcome = query.Outcome()
        searches: list[bridge.Job] = []
        label = f"Similar to: {action.name}"

        def on_read(motion) -> None:  # a later tick: the operator's context is gone, use bpy.context
            searches.append(query.start(bpy.context, current, MotionQuery(motion), label, outcome))

        def on_error(exc: BaseException) -> None:
            outcome.finished, outcome.error = True, describe(exc)
            activity.end("search", job, outcome.error, failed=True)

        job = bridge.start_steps("read action", action_motion.read_steps(bpy.context, obj), on_read, on_error,
                                 on_progress=lambda f, m: activity.progress("search", job, 0.5 * f, m))
        activity.begin("search", job, f"Reading {action.name}…")
        if not bridge.is_synchronous():
            return {'FINISHED'}
        bridge.wait(job)
        if searches:
            return finish(self, searches[0], outcome)
        self.report({'ERROR'}, outcome.error or "Find similar was cancelled")
        return {'CANCELLED'}


_classes = (LAVIMO_OT_search_text, LAVIMO_OT_search_video, LAVIMO_OT_drop_video, LAVIMO_OT_find_similar)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
