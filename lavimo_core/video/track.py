"""`PoseTrack`: per-frame 2D and 3D landmarks of one person, from MediaPipe or projected from a motion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PoseTrack:
    """33 landmarks per frame; frames without a person have present=False and zeros elsewhere."""

    image: np.ndarray        # (T, 33, 2) float32 pixels (x right, y down)
    world: np.ndarray        # (T, 33, 3) float32 metres, camera axes (x right, y down, z away), hip-centred
    visibility: np.ndarray   # (T, 33) float32 in 0..1
    present: np.ndarray      # (T,) bool
    size: tuple[int, int]    # (W, H) of the frames
    fps: float

    def __len__(self) -> int:
        return int(self.present.shape[0])

    @property
    def detection_rate(self) -> float:
        """Fraction of frames with a person."""
        return float(self.present.mean()) if len(self) else 0.0

    @staticmethod
    def from_frames(frames: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None], size: tuple[int, int],
                    fps: float) -> PoseTrack:
        """A track from per-frame (image px (33, 2), world (33, 3), visibility (33,)); None where nobody was found."""
        if not frames:
            return PoseTrack.empty(size, fps)
        blank = (np.zeros((33, 2)), np.zeros((33, 3)), np.zeros(33))
        image, world, vis = (np.stack([(f or blank)[k] for f in frames]).astype(np.float32) for k in range(3))
        return PoseTrack(image, world, vis, np.array([f is not None for f in frames]), tuple(size), fps)

    @staticmethod
    def empty(size: tuple[int, int], fps: float, frames: int = 0) -> PoseTrack:
        """A track of `frames` frames with nobody in them."""
        return PoseTrack(np.zeros((frames, 33, 2), np.float32), np.zeros((frames, 33, 3), np.float32),
                         np.zeros((frames, 33), np.float32), np.zeros(frames, bool), tuple(size), fps)
