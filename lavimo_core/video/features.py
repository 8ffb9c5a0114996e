"""`VideoFeatures` of a real video file: decode -> MediaPipe -> normalised features.

Used for user queries and for evaluation (on rendered video files), always the whole real path.
Training gets the same features from rendered motions (synthesis/rendered.py) or from projected
joints with measured noise (synthesis/projected.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NoPersonError
from .normalize import POSE_FEATURE_DIM, track_to_features
from .pose import MediaPipePoseFeaturizer
from .track import PoseTrack

VIDEO_FPS = 10.0

__all__ = ["VIDEO_FPS", "POSE_FEATURE_DIM", "VideoFeatures", "video_to_features", "default_featurizer"]


@dataclass
class VideoFeatures:
    """Per-frame pose features of one video at `fps`; rows where present is False are zeros (no person)."""

    features: np.ndarray        # (T, POSE_FEATURE_DIM) float32
    present: np.ndarray         # (T,) bool
    fps: float
    detection_rate: float       # fraction of frames with a person
    featurizer_version: str
    source: str                 # file path, or "render:<motion>" / "projected:<motion>"

    @staticmethod
    def from_track(track: PoseTrack, version: str, source: str) -> VideoFeatures:
        """Normalise a pose track into features."""
        return VideoFeatures(track_to_features(track), track.present.copy(), track.fps, track.detection_rate,
                             version, source)


_FEATURIZER = None


def default_featurizer() -> MediaPipePoseFeaturizer:
    """The shared MediaPipe featurizer (created on first use; MediaPipe graphs are made per call)."""
    global _FEATURIZER
    if _FEATURIZER is None:
        _FEATURIZER = MediaPipePoseFeaturizer()
    return _FEATURIZER


def video_to_features(path: str | Path, *, start: float | None = None, end: float | None = None,
                      featurizer=None, on_frame: Callable[[int], None] | None = None) -> VideoFeatures:
    """Features of a video file sampled at VIDEO_FPS (raises VideoError subclasses with a clear message).

    `on_frame(i)` is called before sampled frame i is processed; an exception it raises (a cancelled query)
    stops the work there, so a long video is abandoned within one frame.
    """
    from .decode import iter_frames

    featurizer = featurizer or default_featurizer()
    frames = iter_frames(path, fps=VIDEO_FPS, start=start, end=end)
    if on_frame is not None:
        frames = _announced(frames, on_frame)
    track = featurizer.track(frames, VIDEO_FPS)
    if not track.present.any():
        raise NoPersonError(
            f"no person was found in any of the {len(track)} sampled frames of {path}; use a clip where one "
            "whole person is clearly visible (full body, not too small, reasonably lit).")
    return VideoFeatures.from_track(track, featurizer.version, str(path))


def _announced(frames: Iterable, on_frame: Callable[[int], None]) -> Iterator:
    for i, frame in enumerate(frames):
        on_frame(i)
        yield frame
