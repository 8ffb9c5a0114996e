"""Library: index a folder of the animator's own BVH files into a store, in the background."""

from __future__ import annotations

from . import ops, props, ui


def register() -> None:
    """Register properties, operator and panel."""
    props.register()
    ops.register()
    ui.register()


def unregister() -> None:
    """Unregister in reverse order."""
    ui.unregister()
    ops.unregister()
    props.unregister()
