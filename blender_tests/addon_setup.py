"""Helpers shared by the add-on tests (blender_tests/test_addon_*.py); their fixtures are in conftest.py.

- `timer_driven()`: the UI's timer path in background mode (the test calls bridge.drain() as the timer would).
- `fingerprint(...)`: what a failed operator must leave unchanged.
- `RecordingLayout`: draws a panel without a window (background mode has none), checking each call
  against the real UILayout RNA (function and keyword names, property names, operator ids).
"""

from __future__ import annotations

import contextlib
import sys
from types import SimpleNamespace

import bpy
import numpy as np

ADDON = "lavimo_blender"


@contextlib.contextmanager
def timer_driven():
    """Results arrive through the bridge's timer, as in the UI, although bpy runs in background mode.

    The production code has no switch for this: the test stands in for Blender's timer by replacing
    bridge.is_synchronous for the duration and calling bridge.drain() itself.
    """
    from lavimo_blender import bridge

    real = bridge.is_synchronous
    bridge.is_synchronous = lambda: False
    try:
        yield
    finally:
        bridge.is_synchronous = real


def prefs():
    """The enabled add-on's preferences."""
    return bpy.context.preferences.addons[ADDON].preferences


def fingerprint() -> dict:
    """Objects, actions, each object's animation and pose, the current frame: all an operator could change."""
    scene = bpy.context.scene
    out = {"frame": (scene.frame_current, scene.frame_subframe),
           "objects": sorted(o.name for o in bpy.data.objects),
           "actions": sorted(a.name for a in bpy.data.actions),
           "active": getattr(bpy.context.view_layer.objects.active, "name", None)}
    for obj in bpy.data.objects:
        anim = obj.animation_data
        out[f"anim:{obj.name}"] = (anim.action.name if anim and anim.action else None,
                                   len(anim.nla_tracks) if anim else 0)
        out[f"matrix:{obj.name}"] = np.round(np.array(obj.matrix_world), 6).tolist()
        if obj.type == 'ARMATURE':
            out[f"pose:{obj.name}"] = [np.round(np.array(pb.matrix_basis), 6).tolist() for pb in obj.pose.bones]
    return out


def make_rig(preset: str = "mixamo"):
    """A test rig from the retargeting engineer's builder ("mixamo", "rigify", ...), active and selected."""
    from lavimo_blender.apply.rig_builder import build_armature

    obj = build_armature(preset)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    return obj


def real_motion(index: int = 0):
    """A real Bandai-Namco clip as a canonical Motion (via the import engineer's loader)."""
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset

    files = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))
    return load_motion(files[index])


class RecordingLayout:
    """A stand-in for UILayout that records what a panel draws and validates every call against the RNA."""

    _functions = {f.identifier: {p.identifier for p in f.parameters}
                  for f in bpy.types.UILayout.bl_rna.functions}

    def __init__(self, log: list | None = None) -> None:
        self.log = log if log is not None else []
        self.alert = self.active = self.enabled = False
        self.use_property_split = self.use_property_decorate = False
        self.scale_y = self.scale_x = 1.0
        self.operator_context = 'INVOKE_DEFAULT'

    def __getattr__(self, name):
        if name not in self._functions:
            raise AttributeError(f"UILayout has no function {name!r}")

        def call(*args, **kwargs):
            unknown = set(kwargs) - self._functions[name]
            assert not unknown, f"UILayout.{name}() has no parameter(s) {unknown}"
            if name in ("prop", "prop_search"):
                data, prop = args[0], args[1]
                assert prop in data.bl_rna.properties, f"{type(data).__name__} has no property {prop!r}"
            if name == "operator":
                idname = args[0] if args else kwargs["operator"]
                module, op = idname.split(".")
                getattr(getattr(bpy.ops, module), op).get_rna_type()  # raises if not registered
                props = _OperatorProperties()
                self.log.append((name, args, kwargs))
                return props
            if name == "progress":
                assert 0.0 <= kwargs.get("factor", 0.0) <= 1.0
            self.log.append((name, args, kwargs))
            if name in ("row", "column", "box", "split", "column_flow", "grid_flow"):
                return RecordingLayout(self.log)
            return None

        return call

    def texts(self) -> list[str]:
        """Every text drawn (labels, operator buttons, progress)."""
        return [kw.get("text", "") for _, _, kw in self.log if kw.get("text")]

    def operators(self) -> list[str]:
        """Every operator button's idname."""
        return [a[0] if a else kw["operator"] for name, a, kw in self.log if name == "operator"]


class _OperatorProperties(SimpleNamespace):
    """What layout.operator() returns: takes the button's operator properties."""


def draw_panel(panel_cls, context=None) -> RecordingLayout:
    """Run a panel's draw() with a RecordingLayout; returns it for inspection."""
    layout = RecordingLayout()
    # A Panel cannot be instantiated outside a region; draw() only uses self.layout.
    panel_cls.draw(SimpleNamespace(layout=layout), context or bpy.context)
    return layout


def modules_loaded(prefix: str) -> list[str]:
    """Names in sys.modules under `prefix` (to check what an import pulled in)."""
    return sorted(m for m in sys.modules if m == prefix or m.startswith(prefix + "."))
