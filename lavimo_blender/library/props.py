"""What the Library sub-panel edits: the folder of BVH files to index and where its store goes."""

from __future__ import annotations

import bpy
from bpy.props import PointerProperty, StringProperty
from bpy.types import PropertyGroup


class LAVIMO_PG_library(PropertyGroup):
    folder: StringProperty(name="BVH Folder", subtype='DIR_PATH',
                           description="A folder of your own .bvh files (sub-folders included)")
    store_path: StringProperty(name="Store", subtype='DIR_PATH',
                               description="Where to write the store; empty: a lavimo_store folder inside the "
                                           "BVH folder. An existing store gets the new files added")


def register() -> None:
    """Register and attach to the window manager."""
    bpy.utils.register_class(LAVIMO_PG_library)
    bpy.types.WindowManager.lavimo_library = PointerProperty(type=LAVIMO_PG_library)


def unregister() -> None:
    """Detach and unregister."""
    del bpy.types.WindowManager.lavimo_library
    bpy.utils.unregister_class(LAVIMO_PG_library)
