"""Add-on preferences (model, stores, number of results, device, offline wheels) and the settings read from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
from bpy.props import CollectionProperty, EnumProperty, IntProperty, StringProperty
from bpy.types import AddonPreferences, Operator, PropertyGroup, UIList

# The add-on's module name: "lavimo_blender" in development, "bl_ext.<repo>.lavimo" when installed.
ADDON_ID = __package__
ADDON_DIR = Path(__file__).resolve().parent
# build_addon.py may ship a default model and store inside the extension, under these names.
BUNDLED_MODEL = ADDON_DIR / "model"
BUNDLED_STORE = ADDON_DIR / "store"

DEVICES = [
    ("cpu", "CPU", "Run the model on the CPU (works everywhere)"),
    ("cuda", "CUDA", "Run the model on an NVIDIA GPU (needs a CUDA build of torch)"),
    ("mps", "Metal", "Run the model on Apple silicon"),
]


@dataclass
class Settings:
    """What a query needs, resolved from the preferences (or their defaults when the add-on is not enabled)."""

    model_path: str = ""
    store_path: str = ""
    top_k: int = 10
    device: str = "cpu"
    wheel_dir: str = ""


class LAVIMO_PG_store_path(PropertyGroup):
    """One motion store the panel can search."""

    path: StringProperty(name="Path", subtype='DIR_PATH', description="A store folder built by LAVIMO")


class LAVIMO_UL_stores(UIList):
    """The stores listed in the preferences."""

    bl_idname = "LAVIMO_UL_stores"

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        layout.prop(item, "path", text="", emboss=False, icon='ASSET_MANAGER')


class LAVIMO_OT_store_add(Operator):
    """Add a store folder to the list of stores"""

    bl_idname = "lavimo.store_add"
    bl_label = "Add Store"
    bl_options = {'INTERNAL'}

    directory: StringProperty(subtype='DIR_PATH')

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {'RUNNING_MODAL'}

    def execute(self, context):
        prefs = addon_prefs(context)
        if prefs is None:
            self.report({'ERROR'}, "LAVIMO is not enabled in Preferences > Add-ons")
            return {'CANCELLED'}
        if not self.directory or not Path(bpy.path.abspath(self.directory)).is_dir():
            self.report({'ERROR'}, f"Not a folder: {self.directory!r}; choose a store folder")
            return {'CANCELLED'}
        add_store(prefs, self.directory)
        return {'FINISHED'}


class LAVIMO_OT_store_remove(Operator):
    """Remove the selected store from the list (its files stay on disk)"""

    bl_idname = "lavimo.store_remove"
    bl_label = "Remove Store"
    bl_options = {'INTERNAL'}

    def execute(self, context):
        prefs = addon_prefs(context)
        if prefs is None or not prefs.stores:
            self.report({'ERROR'}, "No store to remove")
            return {'CANCELLED'}
        prefs.stores.remove(prefs.active_store)
        prefs.active_store = max(0, min(prefs.active_store, len(prefs.stores) - 1))
        return {'FINISHED'}


class LAVIMO_OT_store_use(Operator):
    """Search this store"""

    bl_idname = "lavimo.store_use"
    bl_label = "Use Store"
    bl_options = {'INTERNAL'}

    index: IntProperty()

    def execute(self, context):
        prefs = addon_prefs(context)
        if prefs is None or not 0 <= self.index < len(prefs.stores):
            self.report({'ERROR'}, "No such store")
            return {'CANCELLED'}
        prefs.active_store = self.index
        return {'FINISHED'}


class LAVIMO_AddonPreferences(AddonPreferences):
    bl_idname = ADDON_ID

    model_path: StringProperty(
        name="Model", subtype='DIR_PATH',
        description="Checkpoint folder (model.safetensors + config.json). Empty: the model shipped with the add-on")
    stores: CollectionProperty(type=LAVIMO_PG_store_path)
    active_store: IntProperty(name="Active store", min=0)
    top_k: IntProperty(name="Results", default=10, min=1, max=100, description="How many motions a search lists")
    device: EnumProperty(name="Device", items=DEVICES, default='cpu')
    wheel_dir: StringProperty(
        name="Local wheels", subtype='DIR_PATH',
        description="Install dependencies from this folder of wheels, without the internet (offline machines)")

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "model_path")
        layout.prop(self, "device")
        layout.prop(self, "top_k")
        layout.label(text="Stores (the panel searches the highlighted one):")
        row = layout.row()
        row.template_list("LAVIMO_UL_stores", "", self, "stores", self, "active_store", rows=3)
        col = row.column(align=True)
        col.operator(LAVIMO_OT_store_add.bl_idname, text="", icon='ADD')
        col.operator(LAVIMO_OT_store_remove.bl_idname, text="", icon='REMOVE')
        layout.prop(self, "wheel_dir")


def addon_prefs(context=None) -> LAVIMO_AddonPreferences | None:
    """This add-on's preferences, or None when it was registered without being enabled (e.g. a bare register())."""
    addon = (context or bpy.context).preferences.addons.get(ADDON_ID)
    return addon.preferences if addon else None


def add_store(prefs: LAVIMO_AddonPreferences, path: str) -> None:
    """Add `path` to the store list (once) and make it the one the panel searches."""
    path = bpy.path.abspath(path)
    for i, item in enumerate(prefs.stores):
        if Path(bpy.path.abspath(item.path)) == Path(path):
            prefs.active_store = i
            return
    prefs.stores.add().path = path
    prefs.active_store = len(prefs.stores) - 1


def active_store_path(prefs: LAVIMO_AddonPreferences | None) -> str:
    """The store the panel searches: the highlighted one in the list, else the store shipped with the add-on."""
    if prefs is not None and prefs.stores:
        return bpy.path.abspath(prefs.stores[min(prefs.active_store, len(prefs.stores) - 1)].path)
    return str(BUNDLED_STORE) if BUNDLED_STORE.is_dir() else ""


def settings(context=None) -> Settings:
    """The settings a query runs with (paths made absolute; bundled model/store when none is set)."""
    prefs = addon_prefs(context)
    if prefs is None:
        return Settings(
            model_path=str(BUNDLED_MODEL) if BUNDLED_MODEL.is_dir() else "",
            store_path=active_store_path(None))
    model = bpy.path.abspath(prefs.model_path) if prefs.model_path else (
        str(BUNDLED_MODEL) if BUNDLED_MODEL.is_dir() else "")
    return Settings(model_path=model, store_path=active_store_path(prefs), top_k=prefs.top_k,
                    device=prefs.device, wheel_dir=bpy.path.abspath(prefs.wheel_dir) if prefs.wheel_dir else "")


_classes = (LAVIMO_PG_store_path, LAVIMO_UL_stores, LAVIMO_OT_store_add, LAVIMO_OT_store_remove,
            LAVIMO_OT_store_use, LAVIMO_AddonPreferences)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
