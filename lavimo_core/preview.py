"""Pose strips: a few poses of a motion drawn side by side (result thumbnails, the demo's PNGs).

Pure numpy (anti-aliased capsules drawn from distance fields), because thumbnails are drawn inside
Blender, whose Python has numpy but neither OpenCV nor Pillow; the icons take the pixels directly
(lavimo_blender/thumbnails.py) and the demo writes its PNGs with Pillow (demo/pictures.py).
"""

from __future__ import annotations

import numpy as np

from .motion.motion import Motion
from .motion.skeleton import KINEMATIC_CHAINS

BACKGROUND = (38, 40, 46)        # RGB under transparent pixels (what shows where alpha is dropped)
_COLOURS = {0: (235, 140, 60), 1: (80, 160, 240), 2: (225, 225, 225), 3: (235, 140, 60), 4: (80, 160, 240)}
_VIEW_AZIMUTH_DEG = 25.0          # a three-quarter view from the front-left shows depth
_VIEW_ELEVATION_DEG = 10.0


def _view(points: np.ndarray) -> np.ndarray:
    """Orthographic view of world points (..., 3) -> (..., 3) [x right, y up, depth towards viewer]."""
    az, el = np.radians(_VIEW_AZIMUTH_DEG), np.radians(_VIEW_ELEVATION_DEG)
    right = np.array([np.cos(az), 0.0, -np.sin(az)])
    toward = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    up = np.cross(toward, right)
    return np.stack([points @ right, points @ up, points @ toward], -1)


def _draw_segment(rgb: np.ndarray, alpha: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float,
                  colour: tuple[int, int, int]) -> None:
    """Paint an anti-aliased capsule from a to b (pixel coordinates) over the image, in place."""
    h, w = alpha.shape
    lo = np.floor(np.minimum(a, b) - radius - 1).astype(int)
    hi = np.ceil(np.maximum(a, b) + radius + 2).astype(int)
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], w), min(hi[1], h)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    p = np.stack([xs, ys], -1)
    ab = b - a
    s = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-9), 0, 1)
    d = np.linalg.norm(p - (a + s[..., None] * ab), axis=-1)
    cover = np.clip(radius + 0.5 - d, 0, 1)
    region = rgb[y0:y1, x0:x1]
    region[:] = region * (1 - cover[..., None]) + np.asarray(colour, np.float32) * cover[..., None]
    alpha[y0:y1, x0:x1] = np.maximum(alpha[y0:y1, x0:x1], cover)


def _draw_pose(rgb: np.ndarray, alpha: np.ndarray, joints_px: np.ndarray, depth: np.ndarray, width: float) -> None:
    """Draw one pose: limbs far from the viewer first, head as a disc."""
    segments = [(depth[c[i]] + depth[c[i + 1]], ci, c[i], c[i + 1])
                for ci, c in enumerate(KINEMATIC_CHAINS) for i in range(len(c) - 1)]
    for _, ci, i, j in sorted(segments):
        colour = tuple(int(v * (0.75 if ci in (0, 3) else 1.0)) for v in _COLOURS[ci])
        _draw_segment(rgb, alpha, joints_px[i], joints_px[j], width, colour)
    head = joints_px[15]
    _draw_segment(rgb, alpha, head, head + np.array([0.0, -0.5 * width]), 2.2 * width, _COLOURS[2])


def pose_strip(motion: Motion, n: int = 6, height: int = 128, size: tuple[int, int] | None = None) -> np.ndarray:
    """A strip of n poses evenly spaced through `motion`, (H, W, 4) uint8 RGBA.

    With `size` (W, H) the strip fits that image (e.g. a square thumbnail), else each pose gets a
    panel of 0.6 x height. Poses share one scale; each is centred in its panel on its own root.
    """
    joints = np.asarray(motion.joints, np.float64)
    if len(joints) == 0:
        raise ValueError(f"motion {motion.name!r} has no frames")
    n = max(1, min(n, len(joints)))
    if size is None:
        size = (max(1, int(round(0.6 * height))) * n, height)
    else:
        n = max(1, min(n, int(size[0] / (0.45 * size[1]))))   # a square thumbnail holds two poses
    w, h = int(size[0]), int(size[1])
    frames = joints[np.linspace(0, len(joints) - 1, n).round().astype(int)]
    view = _view(frames - frames[:, :1] * np.array([1.0, 0.0, 1.0]))    # each pose on its own root, keep height
    extent_y = max(float(view[..., 1].max() - min(view[..., 1].min(), 0.0)), 1e-3)
    extent_x = max(float(np.abs(view[..., 0]).max()) * 2, 1e-3)
    panel_w = w / n
    scale = min(0.86 * h / extent_y, 0.9 * panel_w / extent_x)
    ground = 0.93 * h + min(view[..., 1].min(), 0.0) * scale
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = BACKGROUND
    alpha = np.zeros((h, w), np.float32)
    width = max(1.0, 0.02 * scale)
    for k, pose in enumerate(view):
        px = np.stack([(k + 0.5) * panel_w + pose[:, 0] * scale, ground - pose[:, 1] * scale], -1)
        _draw_pose(rgb, alpha, px, pose[:, 2], width)
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    return out
