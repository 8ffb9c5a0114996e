"""Work in flight, one slot per kind (search, library indexing, dependency install): progress bar, status, Cancel."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, PointerProperty, StringProperty
from bpy.types import Operator, PropertyGroup

from . import bridge

SLOTS = ("search", "index", "deps")

_jobs: dict[str, bridge.Job] = {}  # the job each slot's progress bar shows


class LAVIMO_PG_activity(PropertyGroup):
    """One slot's state, drawn as a progress bar with a Cancel button, then as the outcome."""

    busy: BoolProperty()
    progress: FloatProperty(min=0.0, max=1.0, subtype='FACTOR')
    message: StringProperty()
    failed: BoolProperty(description="The message is an error")


class LAVIMO_PG_activities(PropertyGroup):
    search: PointerProperty(type=LAVIMO_PG_activity)
    index: PointerProperty(type=LAVIMO_PG_activity)
    deps: PointerProperty(type=LAVIMO_PG_activity)


def slot(slot_name: str, context=None) -> LAVIMO_PG_activity:
    """The state of one slot."""
    return getattr((context or bpy.context).window_manager.lavimo_activity, slot_name)


def current_job(slot_name: str) -> bridge.Job | None:
    """The job in flight in `slot_name`, if any."""
    job = _jobs.get(slot_name)
    return job if job is not None and not job.done.is_set() else None


def begin(slot_name: str, job: bridge.Job, message: str) -> None:
    """Show `job` in its slot, cancelling the job it supersedes."""
    old = _jobs.get(slot_name)
    if old is not None and old is not job and not old.done.is_set():
        old.cancel()
    _jobs[slot_name] = job
    state = slot(slot_name)
    state.busy, state.progress, state.message, state.failed = True, 0.0, message, False
    redraw_panels()


def progress(slot_name: str, job: bridge.Job, fraction: float, message: str = "") -> None:
    """Update the progress bar, if `job` is still the one shown."""
    if _jobs.get(slot_name) is not job:
        return
    state = slot(slot_name)
    state.progress = max(0.0, min(1.0, fraction))
    if message:
        state.message = message
    redraw_panels()


def end(slot_name: str, job: bridge.Job | None, message: str, failed: bool = False) -> None:
    """Show the outcome; a stale job (superseded or cancelled) changes nothing."""
    if job is not None and _jobs.get(slot_name) is not job:
        return
    _jobs.pop(slot_name, None)
    state = slot(slot_name)
    state.busy, state.progress, state.message, state.failed = False, 0.0 if failed else 1.0, message, failed
    redraw_panels()


def redraw_panels() -> None:
    """Tag the 3D viewport sidebars (and preferences) for redraw."""
    # Panels only redraw on events; tag the sidebars so progress shows while the mouse is still.
    wm = getattr(bpy.context, "window_manager", None)
    for window in (wm.windows if wm else ()):
        for area in window.screen.areas:
            if area.type in {'VIEW_3D', 'PREFERENCES'}:
                area.tag_redraw()


def draw(layout, slot_name: str, context=None) -> None:
    """Progress bar with Cancel while busy; afterwards the outcome (an error in red)."""
    state = slot(slot_name, context)
    if state.busy:
        row = layout.row(align=True)
        row.progress(factor=state.progress, type='BAR', text=state.message or "Working…")
        row.operator(LAVIMO_OT_cancel.bl_idname, text="", icon='X').slot = slot_name
    elif state.message:
        row = layout.row()
        row.alert = state.failed
        row.label(text=state.message, icon='ERROR' if state.failed else 'CHECKMARK')


class LAVIMO_OT_cancel(Operator):
    """Stop this work; nothing it would have changed is changed"""

    bl_idname = "lavimo.cancel"
    bl_label = "Cancel"
    bl_options = {'INTERNAL'}

    slot: EnumProperty(items=[(s, s.title(), "") for s in SLOTS])

    def execute(self, context):
        job = current_job(self.slot)
        if job is None:
            self.report({'WARNING'}, f"No {self.slot} in progress")
            return {'CANCELLED'}
        job.cancel()
        end(self.slot, job, "Cancelled")
        return {'FINISHED'}


_classes = (LAVIMO_PG_activity, LAVIMO_PG_activities, LAVIMO_OT_cancel)
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(_classes)


def register() -> None:
    """Register the activity state on the window manager."""
    _register_classes()
    bpy.types.WindowManager.lavimo_activity = PointerProperty(type=LAVIMO_PG_activities)


def unregister() -> None:
    """Cancel jobs and remove the state."""
    for job in _jobs.values():
        job.cancel()
    _jobs.clear()
    del bpy.types.WindowManager.lavimo_activity
    _unregister_classes()
