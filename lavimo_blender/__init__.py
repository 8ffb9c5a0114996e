"""LAVIMO for Blender: search a motion library by text, video or example motion and apply hits to your rig.

Loaded as `lavimo_blender` (development, bpy-module tests) or as `bl_ext.<repo>.lavimo` (an installed
extension): every name is relative to `__package__`, so both work. Nothing here imports torch, av or
mediapipe: without them the add-on still loads, and its panel says what is missing.
"""

from __future__ import annotations

from . import activity, apply, bridge, deps, library, prefs, search, thumbnails

# Registration order; unregister() goes backwards.
_MODULES = (prefs, activity, bridge, deps, thumbnails, search, apply, library)
_registered: list = []


def register() -> None:
    """Register every feature; a second call re-registers cleanly (as an add-on reload does)."""
    if _registered:
        unregister()
    try:
        for module in _MODULES:
            module.register()
            _registered.append(module)
    except Exception:
        unregister()  # leave nothing half-registered
        raise


def unregister() -> None:
    """Unregister everything register() added, and close the engine."""
    from . import engine_session

    while _registered:
        _registered.pop().unregister()
    engine_session.close()
