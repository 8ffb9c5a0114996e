"""Search: the panel, its results list, the video drop handler, and the search operators."""

from __future__ import annotations

from . import ops, props, ui


def register() -> None:
    """Register properties, operators and UI, in that order."""
    props.register()
    ops.register()
    ui.register()


def unregister() -> None:
    """Unregister in reverse order."""
    ui.unregister()
    ops.unregister()
    props.unregister()
