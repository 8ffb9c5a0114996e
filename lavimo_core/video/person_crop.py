"""Find and follow a person too small for MediaPipe's full-frame detector, with the pose run on a crop around them.

MediaPipe Pose looks for a person on the whole frame scaled down to its 224-px detector input: a person a
sixth of a 1080p frame's height is ~35 px there and is never found (measured: a real 420-px clip placed at
half size in a 1080p frame gives 0 detections in 125 frames). Here the person is first searched for in
overlapping square tiles of the frame; then each frame is cut to a square around them (CROP_BODY times their
size, scaled to CROP_PX: small people are scaled up before pose estimation), the crop follows their
landmarks, and the landmarks are mapped back to full-frame pixels, so the features see the same image
geometry as a full-frame track. Used only when the full frame finds the person too rarely (features.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np

from .pose import landmarks_of
from .track import PoseTrack

CROP_PX = 256              # side of the square crop MediaPipe sees
CROP_BODY = 2.0            # crop side / the person's extent (landmark box), room for arms and steps
MIN_CROP = 96              # smallest crop side in source pixels (below this MediaPipe sees only blur)
TILE_FRACTIONS = (1 / 2, 1 / 3)   # search tile sides as fractions of the frame's shorter side; stride half a tile
SEARCHES = 8               # at most this many tile searches per video (each costs ~one frame per tile)
SEARCH_GAP = 5             # sampled frames between searches while nobody is being followed
MIN_SIDE_FOR_CROPS = 320   # frames smaller than this: the full frame is already what a crop would be


def resize(rgb: np.ndarray, side: int) -> np.ndarray:
    """Bilinear resize of an (h, w, 3) uint8 image to (side, side, 3), pixel centres aligned (numpy only)."""
    h, w = rgb.shape[:2]
    ys = np.clip((np.arange(side) + 0.5) * h / side - 0.5, 0, h - 1)
    xs = np.clip((np.arange(side) + 0.5) * w / side - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    img = rgb.astype(np.float32)
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return np.clip(top * (1 - fy) + bottom * fy + 0.5, 0, 255).astype(np.uint8)


def cut(rgb: np.ndarray, x0: float, y0: float, side: float) -> np.ndarray:
    """The square [x0, x0+side) x [y0, y0+side) of the frame at CROP_PX, grey where it leaves the frame."""
    h, w = rgb.shape[:2]
    xa, ya, s = int(round(x0)), int(round(y0)), max(1, int(round(side)))
    out = np.full((s, s, 3), 114, np.uint8)     # mid grey: no edges for the detector to find
    sx, sy = max(0, -xa), max(0, -ya)
    ex, ey = min(s, w - xa), min(s, h - ya)
    if ex > sx and ey > sy:
        out[sy:ey, sx:ex] = rgb[ya + sy:ya + ey, xa + sx:xa + ex]
    return resize(out, CROP_PX)


def body_box(image: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, extent) of landmarks (33, 2) in pixels: the larger side of their bounding box."""
    lo, hi = image.min(axis=0), image.max(axis=0)
    centre = (lo + hi) / 2
    return float(centre[0]), float(centre[1]), float(max(hi - lo))


class CropTracker:
    """Follows one person through frames with MediaPipe Pose run on a square crop around them."""

    def __init__(self, pose_solution, options: dict):
        self.mp, self.options = pose_solution, options    # options: MediaPipePoseFeaturizer.pose_options()

    def search(self, rgb: np.ndarray, finder) -> tuple[float, float, float] | None:
        """The person's box in a frame found by trying overlapping tiles (largest tiles first), or None."""
        h, w = rgb.shape[:2]
        best, best_vis = None, 0.0
        for fraction in TILE_FRACTIONS:
            side = min(h, w) * fraction
            for y0 in np.arange(0, h - side + 1, side / 2):
                for x0 in np.arange(0, w - side + 1, side / 2):
                    lm = landmarks_of(finder.process(cut(rgb, x0, y0, side)))
                    if lm is None:
                        continue
                    vis = float(lm[2][11:].mean())
                    if vis > best_vis:
                        best, best_vis = body_box(lm[0] * side + (x0, y0)), vis
            if best is not None:
                return best
        return None

    def track(self, frames: Iterable[tuple[float, np.ndarray]], fps: float) -> PoseTrack:
        """Landmarks in full-frame pixels for every frame; the crop follows the person, lost ones are searched for."""
        found, size, box, since_search, searches = [], (0, 0), None, SEARCH_GAP, 0
        with warnings.catch_warnings(), self.mp.Pose(static_image_mode=False, **self.options) as pose, \
                self.mp.Pose(static_image_mode=True, **self.options) as finder:
            warnings.simplefilter("ignore", UserWarning)   # protobuf deprecation inside MediaPipe's result parsing
            for _, rgb in frames:
                size = (rgb.shape[1], rgb.shape[0])
                if box is None and since_search >= SEARCH_GAP and searches < SEARCHES:
                    box, since_search, searches = self.search(rgb, finder), 0, searches + 1
                since_search += 1
                lm = None
                if box is not None:
                    side = max(MIN_CROP, box[2] * CROP_BODY)
                    x0, y0 = box[0] - side / 2, box[1] - side / 2
                    lm = landmarks_of(pose.process(cut(rgb, x0, y0, side)))
                if lm is None:
                    box = None
                    found.append(None)
                    continue
                image = lm[0] * side + (x0, y0)
                found.append((image, lm[1], lm[2]))
                cx, cy, extent = body_box(image)
                # Half-way to the new box: the crop follows without jittering the landmarks it maps back.
                box = ((box[0] + cx) / 2, (box[1] + cy) / 2, (box[2] + extent) / 2)
        return PoseTrack.from_frames(found, size, fps)
