"""Dependencies: find missing packages without importing them, and install the pinned ones on request."""

from __future__ import annotations

from pathlib import Path

import bpy

from ..prefs import ADDON_ID
from . import install, ops

# The site-packages folder register() put on sys.path; only register()/unregister() rebind it (main thread).
_activated: Path | None = None


def site_packages() -> Path:
    """Where "Install dependencies" puts packages: the extension's user folder (kept across upgrades)."""
    try:
        return Path(bpy.utils.extension_path_user(ADDON_ID, path="site-packages"))
    except ValueError:
        # Loaded as a plain module (development, bpy-module tests): use the folder the installed
        # extension would use, so a development copy and the extension share one install.
        return Path(bpy.utils.user_resource('EXTENSIONS')) / ".user" / "user_default" / "lavimo" / "site-packages"


def register() -> None:
    """Put previously installed dependencies on sys.path and register the operator."""
    global _activated
    target = site_packages()
    if install.activate(target):
        _activated = target
    ops.register()


def unregister() -> None:
    """Unregister the operator and take our folder off sys.path again."""
    global _activated
    ops.unregister()
    if _activated is not None:
        install.deactivate(_activated)
        _activated = None
