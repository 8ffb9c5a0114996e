"""The panel's dependency box: what is missing, what it is for, and the Install button."""

from __future__ import annotations

from .. import activity
from . import check
from .ops import LAVIMO_OT_install_dependencies


def draw(layout, context) -> bool:
    """Draw the box when packages are missing or an install ran; True if anything is missing."""
    missing = check.missing()
    state = activity.slot("deps", context)
    if not missing and not state.busy and not state.message:
        return False
    box = layout.box()
    if missing:
        col = box.column(align=True)
        col.alert = True
        col.label(text="Missing Python packages:", icon='ERROR')
        for name in missing:
            col.label(text=f"  {name} ({check.PACKAGES[name]})")
        box.label(text="Installs pinned versions into this add-on's user folder.")
    if state.busy or state.message:
        activity.draw(box, "deps", context)
    if missing and not state.busy:
        box.operator(LAVIMO_OT_install_dependencies.bl_idname, icon='IMPORT')
    return bool(missing)
