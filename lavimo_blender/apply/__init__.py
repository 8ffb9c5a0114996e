"""Apply: retarget a result onto the active armature (rig.py, keyframes.py, core.py, rig_builder.py do the work;
props.py, ops.py and ui.py are the add-on's options, operators and panel around `apply_motion`)."""

from __future__ import annotations

from . import ops, props, ui


def register() -> None:
    """Register options, operators and panels."""
    props.register()
    ops.register()
    ui.register()


def unregister() -> None:
    """Unregister in reverse order."""
    ui.unregister()
    ops.unregister()
    props.unregister()
