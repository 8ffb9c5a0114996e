"""The panel's dependency box: what is missing, what it is for, and the Install button."""

from __future__ import annotations

from .. import activity
from . import bundle, check
from .ops import LAVIMO_OT_install_dependencies


def draw(layout, context) -> bool:
    """Draw the box when packages are missing, the zip is for another platform, or an install ran; True if missing."""
    missing = check.missing()
    wrong_platform = bundle.platform_problem()
    bundled = bool(bundle.bundled_packages())
    state = activity.slot("deps", context)
    if not missing and not wrong_platform and not state.busy and not state.message:
        return False
    box = layout.box()
    if wrong_platform:
        col = box.column(align=True)
        col.alert = True
        col.label(text="Built for another platform", icon='ERROR')
        for line in _wrap(wrong_platform):
            col.label(text=line)
        return True
    if missing:
        col = box.column(align=True)
        col.alert = True
        col.label(text="Missing Python packages:", icon='ERROR')
        for name in missing:
            col.label(text=f"  {name} ({check.PACKAGES[name]})")
        if bundled:  # this zip carries them: a reinstall fixes it, no network needed
            box.label(text="They come with LAVIMO's zip: remove LAVIMO, install the zip again, restart Blender.")
        else:
            box.label(text="Installs pinned versions into this add-on's user folder.")
    if state.busy or state.message:
        activity.draw(box, "deps", context)
    if missing and not bundled and not state.busy:
        box.operator(LAVIMO_OT_install_dependencies.bl_idname, icon='IMPORT')
    return bool(missing)


def _wrap(text: str, width: int = 60) -> list[str]:
    import textwrap
    return textwrap.wrap(text, width)
