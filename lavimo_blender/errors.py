"""The one place that turns an exception from background work into the message an animator reads."""

from __future__ import annotations

import traceback

from lavimo_core.errors import LavimoError


def describe(exc: BaseException) -> str:
    """A clear message for `exc`: a LavimoError as is, a missing package as an install hint, else a short summary."""
    if isinstance(exc, LavimoError):
        return str(exc)
    if isinstance(exc, ImportError):
        name = getattr(exc, "name", None) or str(exc)
        return (f"the Python package {name!r} is missing or broken: click \"Install dependencies\" in the LAVIMO "
                "panel (3D Viewport > Sidebar > LAVIMO)")
    # A bug, not something the user did: keep the traceback in the console for a report.
    traceback.print_exception(type(exc), exc, exc.__traceback__)
    return f"unexpected error ({type(exc).__name__}: {exc}); the console has the details"
