"""A second renderer for evaluation only: canonical motions filmed with Blender's Workbench engine (bpy).

Training never sees it: a body of plain cylinders and spheres (other proportions, colours and shading
than the training renderer's capsules), a camera that tracks the pelvis from a seeded random place,
Workbench studio light, a flat background. Runs in its own process (bpy and torch each bring native
libraries): `python bench/workbench_render.py JOBS.json`, where JOBS.json lists
{"joints": "clip.npy" (T, 22, 3) metres Y up at 20 fps, "out": folder, "fps": 15, "size": 320, "seed": 0};
frames are written as out/frame_0000.png ... . `render_videos` drives it from the bench and encodes mp4s.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FPS = 20.0
# (joint a, joint b, radius in metres): limbs and trunk as cylinders between canonical joints.
BONES = [(0, 3, 0.13), (3, 6, 0.14), (6, 9, 0.15), (9, 12, 0.07), (1, 4, 0.08), (4, 7, 0.06), (2, 5, 0.08),
         (5, 8, 0.06), (7, 10, 0.045), (8, 11, 0.045), (9, 13, 0.06), (9, 14, 0.06), (13, 16, 0.06),
         (14, 17, 0.06), (16, 18, 0.05), (17, 19, 0.05), (18, 20, 0.04), (19, 21, 0.04), (0, 1, 0.1), (0, 2, 0.1)]
HEAD, LEFT_WRIST, RIGHT_WRIST = 15, 20, 21


def to_blender(p: np.ndarray) -> np.ndarray:
    """Canonical (Y up, facing +Z) -> Blender (Z up): a proper rotation, so left stays left."""
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def _render_job(job: dict) -> None:
    import bpy
    from mathutils import Matrix, Vector

    rng = np.random.default_rng(job["seed"])
    joints = to_blender(np.load(job["joints"], allow_pickle=False).astype(np.float64))
    step = SOURCE_FPS / job["fps"]
    frames = joints[np.minimum(np.round(np.arange(0, len(joints) - 1e-9, step)).astype(int), len(joints) - 1)]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "OBJECT"
    scene.display.shading.show_shadows = True
    scene.render.resolution_x = job["size"]
    scene.render.resolution_y = int(job["size"] * 3 / 4)
    scene.render.image_settings.file_format = "PNG"
    world = bpy.data.worlds.new("w")
    scene.world = world
    world.color = tuple(rng.uniform(0.3, 0.8, 3))
    skin = tuple(rng.uniform([0.45, 0.3, 0.2], [0.95, 0.8, 0.7])) + (1.0,)
    shirt = tuple(rng.uniform(0.05, 0.9, 3)) + (1.0,)
    trousers = tuple(rng.uniform(0.05, 0.6, 3)) + (1.0,)
    objects = []
    for a, b, radius in BONES:
        bpy.ops.mesh.primitive_cylinder_add(vertices=16, radius=radius, depth=1.0)
        ob = bpy.context.object
        ob.color = trousers if a in (0, 1, 2, 4, 5) and b in (1, 2, 4, 5, 7, 8) else (
            skin if b in (18, 19, 20, 21, 10, 11) else shirt)
        objects.append((ob, a, b))
    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.11)
    head = bpy.context.object
    head.color = skin
    hands = []
    for _ in (LEFT_WRIST, RIGHT_WRIST):
        bpy.ops.mesh.primitive_uv_sphere_add(radius=0.05)
        hands.append(bpy.context.object)
        hands[-1].color = skin
    bpy.ops.mesh.primitive_plane_add(size=40)
    bpy.context.object.color = tuple(rng.uniform(0.2, 0.7, 3)) + (1.0,)
    # Camera: seeded azimuth around the start facing, 3.5-6 m away, 1-2 m high, tracking the pelvis.
    cam_data = bpy.data.cameras.new("cam")
    cam_data.lens = float(rng.uniform(28, 50))
    cam = bpy.data.objects.new("cam", cam_data)
    scene.collection.objects.link(cam)
    scene.camera = cam
    azimuth = math.radians(rng.uniform(-70, 70))
    distance = float(rng.uniform(3.5, 6.0)) * cam_data.lens / 35
    start = frames[0, 0]
    # Canonical +Z (the start facing) is Blender -Y.
    offset = np.array([math.sin(azimuth), -math.cos(azimuth), 0.0]) * distance
    height = float(rng.uniform(1.0, 2.0))
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    for t, p in enumerate(frames):
        for ob, a, b in objects:
            pa, pb = Vector(p[a]), Vector(p[b])
            d = pb - pa
            length = max(d.length, 1e-4)
            rot = Vector((0, 0, 1)).rotation_difference(d.normalized()).to_matrix().to_4x4()
            ob.matrix_world = Matrix.Translation((pa + pb) / 2) @ rot @ Matrix.Diagonal((1, 1, length, 1))
        head.location = Vector(p[HEAD]) + Vector((0, 0, 0.06))
        for ob, j in zip(hands, (LEFT_WRIST, RIGHT_WRIST), strict=True):
            ob.location = Vector(p[j])
        # Tracking camera: follows the pelvis smoothly (half way between start and now), looks at it.
        follow = (start + p[0]) / 2
        cam.location = Vector((follow[0] + offset[0], follow[1] + offset[1], height))
        direction = Vector(p[0]) + Vector((0, 0, 0.1)) - cam.location
        cam.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
        scene.render.filepath = str(out / f"frame_{t:04d}.png")
        bpy.ops.render.render(write_still=True)


def render_videos(clips: list[tuple[str, np.ndarray]], folder: Path, *, fps: float = 15.0, size: int = 320,
                  seed: int = 0, python: str | None = None) -> list[Path]:
    """mp4 files of canonical joint sequences filmed by Workbench (cached in `folder` by name and seed)."""
    from PIL import Image

    from lavimo_core.video.encode import write_frames

    folder.mkdir(parents=True, exist_ok=True)
    jobs, paths = [], []
    for i, (name, joints) in enumerate(clips):
        mp4 = folder / f"{name}-s{seed}-{int(fps)}fps-{size}.mp4"
        paths.append(mp4)
        if mp4.is_file():
            continue
        npy = folder / f"{name}.npy"
        np.save(npy, np.asarray(joints, np.float32))
        jobs.append({"joints": str(npy), "out": str(folder / f"{name}-frames"), "fps": fps, "size": size,
                     "seed": seed * 100003 + i, "mp4": str(mp4)})
    if jobs:
        spec = folder / "jobs.json"
        spec.write_text(json.dumps(jobs))
        subprocess.run([python or sys.executable, __file__, str(spec)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        for job in jobs:
            pngs = sorted(Path(job["out"]).glob("frame_*.png"))
            write_frames(job["mp4"], (np.asarray(Image.open(p).convert("RGB")) for p in pngs), fps=fps)
            for p in pngs:
                p.unlink()
            Path(job["out"]).rmdir()
            Path(job["joints"]).unlink()
    return paths


if __name__ == "__main__":
    for job in json.loads(Path(sys.argv[1]).read_text()):
        _render_job(job)
