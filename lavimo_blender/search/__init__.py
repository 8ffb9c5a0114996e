"""Search: the panel, its results list, the video drop handler, and the search operators."""

from __future__ import annotations

import bpy

from . import ops, preview, props, ui


@bpy.app.handlers.persistent
def _before_load(*_args) -> None:
    preview.stop()  # the previewed armature belongs to the file being closed


def register() -> None:
    """Register properties, operators and UI, in that order."""
    props.register()
    ops.register()
    ui.register()
    bpy.app.handlers.load_pre.append(_before_load)


def unregister() -> None:
    """Unregister in reverse order (ending a preview first: its temporary action must not outlive the add-on)."""
    if _before_load in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_before_load)
    preview.shutdown()
    ui.unregister()
    ops.unregister()
    props.unregister()
