"""`lavimo render MOTION --out clip.mp4`: render a motion file to a video of a human-shaped body."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "render a motion file (BVH) to a video (mp4 H.264 by default) seen from a chosen or random camera"

# Encoder per container when --codec is not given.
_CODEC_FOR_SUFFIX = {".webm": "libvpx-vp9", ".avi": "mpeg4"}


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 640x480, got {text!r}") from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is outside 16x16 .. 7680x4320")
    return w, h


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo render`."""
    p.add_argument("motion", help="motion file (.bvh)")
    p.add_argument("--out", required=True, help="video file to write (.mp4, .mov, .mkv, .webm, .avi)")
    p.add_argument("--azimuth", type=float, default=30.0, help="degrees; 0 = in front of the character (default 30)")
    p.add_argument("--elevation", type=float, default=10.0, help="degrees above the horizon (default 10)")
    p.add_argument("--distance", type=float, default=3.5, help="metres from the clip's centre (default 3.5)")
    p.add_argument("--focal", type=float, default=35.0, help="35 mm-equivalent focal length (default 35)")
    p.add_argument("--pan", action="store_true", help="turn the camera to follow the character")
    p.add_argument("--size", type=_size, default=(640, 480), help="WxH in pixels (default 640x480)")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate of the video (default 30)")
    p.add_argument("--seed", type=int, default=0, help="picks colours, background and light")
    p.add_argument("--random-camera", action="store_true", help="draw the whole camera at random from --seed")
    p.add_argument("--codec", help="encoder (libx264, libx265, libvpx-vp9, mjpeg, mpeg4); default from the suffix")


def run(args: argparse.Namespace) -> int:
    """Load the motion, render it and write the video."""
    import time

    import numpy as np

    from ..errors import LavimoError
    from ..motion.load import load_motion
    from ..synthesis.camera import Camera, random_camera
    from ..synthesis.render import write_video

    out = Path(args.out)
    if not out.parent.is_dir():
        raise LavimoError(f"cannot write {out}: folder {out.parent} does not exist; create it or choose another --out.")
    if args.fps <= 0 or args.fps > 240:
        raise LavimoError(f"--fps must be between 0 and 240, got {args.fps:g}.")
    motion = load_motion(args.motion)
    if args.random_camera:
        camera = random_camera(np.random.default_rng(args.seed), args.size)
    else:
        camera = Camera(azimuth=args.azimuth, elevation=args.elevation, distance=args.distance, focal=args.focal,
                        size=args.size, seed=args.seed, pan=args.pan)
    codec = args.codec or _CODEC_FOR_SUFFIX.get(out.suffix.lower(), "libx264")
    t = time.perf_counter()
    write_video(out, motion, camera, fps=args.fps, codec=codec)
    seconds = time.perf_counter() - t
    frames = int(motion.duration * args.fps)
    print(f"wrote {out}: {motion.name}, {motion.duration:.2f} s, ~{frames} frames at {args.fps:g} fps, "
          f"{camera.size[0]}x{camera.size[1]}, {codec}, camera azimuth {camera.azimuth:.0f} elevation "
          f"{camera.elevation:.0f} distance {camera.distance:.1f} m{' (panning)' if camera.pan else ''}, "
          f"in {seconds:.1f} s")
    return 0
