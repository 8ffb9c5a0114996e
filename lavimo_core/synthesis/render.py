"""Render a canonical Motion to RGB frames or an H.264 video, seen from a (random) camera.

This is the paper's video augmentation: every training motion can be paired with a video of itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..motion.motion import Motion
from ..motion.resample import resample_positions
from .body import Look, body_primitives, random_look
from .camera import Camera, PlacedCamera, place_camera, random_camera
from .raytrace import coarse, environment, floor_hits, render_frame, room, sample_environment

# Bump when a change to body.py, raytrace.py or camera.py changes the pixels; cached features keyed on it go stale.
RENDERER_VERSION = "capsules-5"

__all__ = ["Camera", "random_camera", "RENDERER_VERSION", "render_motion", "write_video"]


def render_joints(joints: np.ndarray, camera: Camera, look: Look | None = None,
                  placed: PlacedCamera | None = None, supersample: int = 1) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) uint8 of canonical joints (T, 22, 3), one per row; `placed` must match their frame rate."""
    import cv2

    look = look or random_look(np.random.default_rng(camera.seed))
    placed = placed or place_camera(camera, joints)
    w, h = placed.size
    big = replace(placed, size=(w * supersample, h * supersample), focal_px=placed.focal_px * supersample)
    rays = big.camera_rays()
    centre = np.array([joints[:, 0, 0].mean(), 0.0, joints[:, 0, 2].mean()])
    if big.panning:
        # The camera only turns, so the room is one panorama sampled per frame.
        env = environment(big, look, centre)
    else:
        dirs = rays @ big.rotation
        background, floor_points = room(big, dirs, look, centre)
        floor_coarse = coarse(floor_points)
    for i, frame in enumerate(joints):
        cam = big.frame(i)
        if big.panning:
            dirs = rays @ cam.rotation
            background, floor_coarse = sample_environment(env, dirs), floor_hits(cam.position, coarse(dirs))
        image = render_frame(body_primitives(frame, look), frame, cam, dirs, background, floor_coarse, look)
        if supersample > 1:
            image = cv2.resize(image.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        yield (image * 255 + 0.5).astype(np.uint8)


def render_motion(motion: Motion, camera: Camera, look: Look | None = None, size: tuple[int, int] | None = None,
                  fps: float | None = None, supersample: int = 1) -> Iterator[np.ndarray]:
    """Frames (H, W, 3) uint8 of `motion` at `fps` (default the motion's) seen from `camera`."""
    if size is not None:
        camera = replace(camera, size=tuple(size))
    fps = fps or motion.fps
    joints = resample_positions(motion.joints, motion.fps, fps)
    # Frame the clip at the motion's own rate, so resampling cannot move the camera.
    placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, fps)
    return render_joints(joints, camera, look, placed, supersample)


def write_video(path: str | Path, motion: Motion, camera: Camera, *, fps: float = 30.0, look: Look | None = None,
                codec: str = "libx264", size: tuple[int, int] | None = None, supersample: int = 1) -> Path:
    """Render `motion` to a video file (default mp4 H.264, written atomically) and return its path."""
    from ..video.encode import write_frames

    frames = render_motion(motion, camera, look, size=size, fps=fps, supersample=supersample)
    return write_frames(path, frames, fps=fps, codec=codec)
