"""A real generated Rigify rig (Blender's human metarig -> Generate Rig), saved to a .blend, for tests and benches.

The rig is generated in a child Python with bpy: bpy 4.5's module hangs at interpreter exit once Rigify has
generated a rig, so the child leaves with os._exit after saving and the caller only opens the saved file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_GENERATE = """
import os, sys, bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.preferences.addon_enable(module="rigify")
bpy.ops.object.armature_human_metarig_add()
bpy.ops.pose.rigify_generate()
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
sys.stdout.flush()
os._exit(0 if "rig" in bpy.data.objects else 1)
"""


def generate_rigify_blend(path: Path, timeout: float = 600) -> Path:
    """Save a .blend at `path` holding a generated Rigify rig ("rig") and its metarig; RuntimeError with the log."""
    proc = subprocess.run([sys.executable, "-c", _GENERATE, str(path)], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0 or not Path(path).exists():
        raise RuntimeError("generating a Rigify rig failed:\n" + proc.stdout[-2000:] + proc.stderr[-2000:])
    return Path(path)
