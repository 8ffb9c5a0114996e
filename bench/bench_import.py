"""Import all Bandai-Namco-1 clips: cold (parse, map, resample, features), from the cache, and against Blender's importer.

Blender's own BVH importer (`bpy.ops.import_anim.bvh`, the bpy module) runs in a subprocess with the same
Python, since bpy and torch should not share a process. It does less than we do (no resampling, no
features) and more (it builds armatures and F-curves), so both our end-to-end time and our parse+FK time
are reported beside it. Joint positions are checked against Blender's pose-bone heads, frame by frame.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TITLE = "Motion import (Bandai-Namco-1, 174 BVH clips)"
CHECK_CLIPS = ("dataset-1_kick_normal_001", "dataset-1_walk-back_chimpira_001", "dataset-1_dance-short_normal_001",
               "dataset-1_byebye_giant_001")

# Runs inside the subprocess: import every file with Blender's importer, then dump pose-bone heads.
_BLENDER_SCRIPT = r"""
import json, sys, time
import bpy
import numpy as np

args = json.loads(sys.argv[1])
bpy.ops.wm.read_factory_settings(use_empty=True)
times = []
for path in args["files"]:
    t = time.perf_counter()
    bpy.ops.import_anim.bvh(filepath=path, axis_forward="-Z", axis_up="Y", global_scale=1.0, frame_start=1,
                            use_fps_scale=False, rotate_mode="NATIVE")
    times.append(time.perf_counter() - t)
    obj = bpy.context.active_object
    name = obj.name
    if name in args["check"]:
        scene = bpy.context.scene
        frames = obj.animation_data.action.frame_range
        heads = []
        for f in range(int(frames[0]), int(frames[1]) + 1):
            scene.frame_set(f)
            heads.append([list(obj.matrix_world @ pb.head) for pb in obj.pose.bones])
        np.save(args["out"] + f"/{name}.npy", np.asarray(heads))
        json.dump([pb.name for pb in obj.pose.bones], open(args["out"] + f"/{name}.json", "w"))
    # Remove what the import made, so later imports do not slow down on a growing scene.
    action = obj.animation_data.action
    arm = obj.data
    bpy.data.objects.remove(obj)
    bpy.data.armatures.remove(arm)
    bpy.data.actions.remove(action)
json.dump({"times": times}, open(args["out"] + "/times.json", "w"))
"""


def _blender_import(files: list[Path], out: Path) -> dict:
    args = json.dumps({"files": [str(f) for f in files], "check": list(CHECK_CLIPS), "out": str(out)})
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _BLENDER_SCRIPT, args], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"Blender import failed:\n{proc.stderr[-3000:]}")
    result = json.loads((out / "times.json").read_text())
    result["wall"] = wall
    return result


def _position_error_mm(out: Path, data: Path) -> dict[str, float]:
    """Largest distance (mm) between our FK joints and Blender's pose-bone heads, per checked clip."""
    from lavimo_core.motion.bvh import read_bvh

    errors = {}
    for name in CHECK_CLIPS:
        heads = np.load(out / f"{name}.npy")                              # (T, bones, 3), Blender Z up
        bones = json.loads((out / f"{name}.json").read_text())
        bvh = read_bvh(data / f"{name}.bvh")
        ours = bvh.positions()[:, [bvh.names.index(b) for b in bones]]   # (T, bones, 3), BVH Y up
        # Undo Blender's axis conversion (forward -Z, up Y): Blender (x, y, z) = BVH (x, -z, y); scale 1.
        back = np.stack([heads[..., 0], heads[..., 2], -heads[..., 1]], axis=-1)
        assert back.shape == ours.shape, (back.shape, ours.shape)
        errors[name] = float(np.linalg.norm(back - ours, axis=-1).max() * 10.0)  # cm -> mm
    return errors


def run() -> str:
    """Time cold and cached imports, Blender's importer, and check positions; return a markdown section."""
    from lavimo_core.data import load_dataset
    from lavimo_core.data.cache import load_motion_cached
    from lavimo_core.motion.bvh import read_bvh
    from lavimo_core.paths import find_dataset

    data = find_dataset("bandai-namco-1") / "data"
    files = sorted(data.glob("*.bvh"))
    saved = os.environ.get("LAVIMO_CACHE")
    tmp = Path(tempfile.mkdtemp(prefix="bench_import_"))
    os.environ["LAVIMO_CACHE"] = str(tmp / "cache")
    try:
        t = time.perf_counter()
        bvhs = [read_bvh(f) for f in files]
        parse = time.perf_counter() - t
        t = time.perf_counter()
        for b in bvhs:
            b.positions()
        fk = time.perf_counter() - t
        frames = sum(b.num_frames for b in bvhs)

        cold = []
        for _ in range(2):
            t = time.perf_counter()
            ds = load_dataset(use_cache=False)
            cold.append(time.perf_counter() - t)
        assert len(ds.motions) == 174 and not ds.skipped
        t = time.perf_counter()
        load_dataset()                                    # fills the cache
        fill = time.perf_counter() - t
        warm = []
        for _ in range(5):
            t = time.perf_counter()
            load_dataset()
            warm.append(time.perf_counter() - t)
        per_clip = []
        for _ in range(3):
            t = time.perf_counter()
            for f in files:                               # one cache file per clip (hash, read, unpack)
                load_motion_cached(f)
            per_clip.append(time.perf_counter() - t)

        out = tmp / "blender"
        out.mkdir()
        blender = _blender_import(files, out)
        errors = _position_error_mm(out, data)
    finally:
        if saved is None:
            os.environ.pop("LAVIMO_CACHE", None)
        else:
            os.environ["LAVIMO_CACHE"] = saved
        shutil.rmtree(tmp, ignore_errors=True)

    ours = min(cold)
    bl = sum(blender["times"])
    warm_s, per_clip_s = statistics.median(warm), statistics.median(per_clip)
    lines = [
        f"{len(files)} files, {frames} frames at 30 fps, {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB; "
        "one process, single-threaded Python/numpy.",
        "",
        "| step | time | baseline (same run) | target |",
        "|---|---|---|---|",
        f"| cold import, end to end (parse, map, resample to 20 fps, features), best of 2 | {ours:.2f} s "
        f"| Blender `import_anim.bvh` on the same files: {bl:.2f} s ({bl / ours:.1f}x slower than ours) | < 10 s |",
        f"| parse alone (`read_bvh`, all files) | {parse:.2f} s | | |",
        f"| FK alone at 30 fps, all joints (what Blender's importer computes) | {fk:.2f} s "
        f"| Blender vs our parse + FK: {bl / (parse + fk):.1f}x slower | |",
        f"| first cached load (cold import + writing the cache) | {fill:.2f} s | cold: {ours:.2f} s | |",
        f"| load from the dataset cache, median of 5 | {warm_s * 1000:.0f} ms | cold: {ours:.2f} s "
        f"({ours / warm_s:.0f}x) | < 1 s |",
        f"| the same clips from per-clip cache entries, median of 3 | {per_clip_s * 1000:.0f} ms | dataset cache: "
        f"{warm_s * 1000:.0f} ms | < 1 s |",
        "",
        f"Blender subprocess wall time including `import bpy` and factory reset: {blender['wall']:.1f} s; "
        f"per file: median {statistics.median(blender['times']) * 1000:.0f} ms, "
        f"max {max(blender['times']) * 1000:.0f} ms.",
        "",
        "Joint positions, ours (raw FK at the source rate) vs Blender's pose-bone heads in world space after "
        "undoing its axis conversion (forward -Z, up Y) and scale (1.0), every frame and bone (target: < 1 mm):",
        "",
        "| clip | frames | max distance |",
        "|---|---|---|",
    ]
    for name, err in errors.items():
        n = read_bvh(data / f"{name}.bvh").num_frames
        lines.append(f"| {name} | {n} | {err:.4f} mm |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(run())
