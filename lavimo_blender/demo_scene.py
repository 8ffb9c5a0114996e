"""`lavimo demo`, step 5: put a stored motion on a generated Mixamo-like armature and save the scene as a .blend.

Runs in its own process with the bpy module, so Blender and torch never share one (the demo's main
process did the search):

    python -m lavimo_blender.demo_scene --store STORE --motion-id ID --out demo_out/demo.blend --report r.json

Exit code 0 on success, 2 with a message on stderr for a problem the user can fix.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import bpy

from lavimo_core.atomic import atomic_write
from lavimo_core.errors import LavimoError
from lavimo_core.store import Store

from .apply.core import ApplyOptions, ApplyReport, apply_motion
from .apply.rig_builder import build_armature

ARMATURE_NAME = "LAVIMO_Mixamo"
SCENE_FPS = 30


def build_scene(motion) -> tuple[bpy.types.Object, ApplyReport]:
    """A fresh scene at 30 fps holding a Mixamo-like armature animated with `motion` from frame 1."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = SCENE_FPS, 1.0
    scene.frame_start = scene.frame_current = 1
    obj = build_armature("mixamo", name=ARMATURE_NAME)
    report = apply_motion(bpy.context, obj, motion, ApplyOptions(frame_start=1))
    scene.frame_end = report.frame_end
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    return obj, report


def save_blend(path: Path) -> Path:
    """Save the open scene to `path` atomically (a temporary .blend renamed over it, so no .blend1 either)."""
    with atomic_write(path) as tmp:
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp), check_existing=False, copy=True)
    return path


def run(store_path: str, motion_id: str, out: Path) -> dict:
    """Apply stored motion `motion_id` and save `out`; returns what was done (JSON-ready)."""
    store = Store.open(store_path)  # no model needed: the stored joints are applied as they are
    if motion_id not in store:
        raise LavimoError(f"motion {motion_id!r} is not in the store {store_path}; run the demo again to rebuild it.")
    motion = store.motion(motion_id)
    obj, report = build_scene(motion)
    save_blend(out)
    return {"blend": str(out), "armature": obj.name, "motion": motion.name, "action": report.action_name,
            "frame_start": report.frame_start, "frame_end": report.frame_end, "fps": report.fps,
            "keyed_bones": len(report.keyed_bones), "keys": report.num_keys, "bone_naming": report.bone_map.preset,
            "summary": report.summary(), "warnings": list(report.warnings), "blender": bpy.app.version_string,
            "license": motion.source.license, "attribution": motion.source.attribution}


def main(argv: list[str] | None = None) -> int:
    """Command line of the demo's Blender step."""
    p = argparse.ArgumentParser(prog="python -m lavimo_blender.demo_scene", description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="store folder holding the motion")
    p.add_argument("--motion-id", required=True, help="id of the motion in the store")
    p.add_argument("--out", required=True, type=Path, help="the .blend to write")
    p.add_argument("--report", type=Path, help="write what was done here as JSON (default: stdout)")
    args = p.parse_args(argv)
    try:
        done = run(args.store, args.motion_id, args.out)
    except LavimoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(done, indent=1)
    if args.report:
        args.report.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
