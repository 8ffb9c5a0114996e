"""`VideoFeatures` of a real video file: decode -> MediaPipe -> normalised features.

Used for user queries and for evaluation (on rendered video files), always the whole real path.
Training gets the same features from rendered motions (synthesis/rendered.py) or from projected
joints with measured noise (synthesis/projected.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NoPersonError
from .normalize import POSE_FEATURE_DIM, track_to_features
from .person_crop import MIN_SIDE_FOR_CROPS
from .pose import MediaPipePoseFeaturizer
from .track import PoseTrack

VIDEO_FPS = 10.0
CROP_RETRY_BELOW = 0.5     # full-frame detection rate under which the person is looked for in crops

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
    frame_size: tuple[int, int] = (0, 0)   # (W, H) of the video's frames
    person_height: float = 0.0  # median height of the person's body landmarks / frame height (0: nobody)
    cropped: bool = False       # the person was found in a crop that followed them (small in the frame)

    @staticmethod
    def from_track(track: PoseTrack, version: str, source: str) -> VideoFeatures:
        """Normalise a pose track into features."""
        return VideoFeatures(track_to_features(track), track.present.copy(), track.fps, track.detection_rate,
                             version, source, tuple(track.size))

    def describe(self) -> str:
        """What the pose estimator found, in words a user can act on."""
        w, h = self.frame_size
        found = f"a person in {self.detection_rate:.0%} of {len(self.present)} frames sampled at {self.fps:g} fps"
        size = f", about {self.person_height:.0%} of the frame's height" if self.person_height else ""
        crop = " (small in the frame: followed in a crop scaled up for the pose estimator)" if self.cropped else ""
        return f"video {w}x{h}: {found}{size}{crop}"


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

    def frames():
        sampled = iter_frames(path, fps=VIDEO_FPS, start=start, end=end)
        return sampled if on_frame is None else _announced(sampled, on_frame)

    track, cropped = featurizer.track(frames(), VIDEO_FPS), False
    if track.detection_rate < CROP_RETRY_BELOW and min(track.size) >= MIN_SIDE_FOR_CROPS:
        # The full frame rarely shows MediaPipe a person: they may be small in a large frame. Look again with
        # a crop that follows them (decoded again: holding every full-size frame could take gigabytes).
        again = featurizer.track_in_crops(frames(), VIDEO_FPS)
        if again.detection_rate > track.detection_rate:
            track, cropped = again, True
    if not track.present.any():
        raise NoPersonError(
            f"no person was found in any of the {len(track)} sampled frames of {path}; use a clip where one "
            "whole person is clearly visible (full body, not too small, reasonably lit).")
    # What the user is told (describe) is measured here, off the training path that also calls from_track.
    return dataclasses.replace(VideoFeatures.from_track(track, featurizer.version, str(path)),
                               person_height=person_height(track), cropped=cropped)


def person_height(track: PoseTrack) -> float:
    """Median height of the person's body landmarks over the frames that have them, as a fraction of the frame's."""
    body = track.image[track.present, 11:, 1]
    return float(np.median(body.max(1) - body.min(1)) / track.size[1]) if len(body) and track.size[1] else 0.0


def _announced(frames: Iterable, on_frame: Callable[[int], None]) -> Iterator:
    for i, frame in enumerate(frames):
        on_frame(i)
        yield frame
