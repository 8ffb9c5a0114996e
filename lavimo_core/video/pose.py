"""Per-frame featurizers: the interface, and MediaPipe Pose (the default, frozen, runs offline).

A featurizer turns sampled RGB frames into per-frame features plus a presence mask. Its `version`
names everything that shapes its output, so cached features are invalidated when it changes. A
pixel backbone (e.g. a CLIP vision model from a local folder) would be another subclass with its
own `dim`; the video encoder only sees (features, present).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from .track import PoseTrack

# MediaPipe's tracker can keep returning a pose for a few frames after the person has left the
# picture, with visibilities near 0.07; real detections on renders never average below 0.5.
MIN_MEAN_VISIBILITY = 0.25


def drop_ghosts(track: PoseTrack) -> PoseTrack:
    """Mark frames whose body landmarks (11..32) average a visibility below MIN_MEAN_VISIBILITY as missing."""
    ghost = track.present & (track.visibility[:, 11:].mean(1) < MIN_MEAN_VISIBILITY)
    if not ghost.any():
        return track
    image, world, vis = track.image.copy(), track.world.copy(), track.visibility.copy()
    image[ghost], world[ghost], vis[ghost] = 0, 0, 0
    return PoseTrack(image, world, vis, track.present & ~ghost, track.size, track.fps)


def landmarks_of(result) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """MediaPipe Pose's result as (image x, y in 0..1 (33, 2), world metres (33, 3), visibility (33,)); None
    when it found nobody."""
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    lm = result.pose_landmarks.landmark
    return (np.array([[p.x, p.y] for p in lm]), np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark]),
            np.array([p.visibility for p in lm]))


class Featurizer(ABC):
    """Frames -> per-frame features (T, dim) and present (T,)."""

    version: str
    dim: int

    @abstractmethod
    def featurize(self, frames: Iterable[tuple[float, np.ndarray]], fps: float) -> tuple[np.ndarray, np.ndarray]:
        """Features (T, dim) float32 and present (T,) bool for (t, RGB) frames sampled at `fps`."""


class MediaPipePoseFeaturizer(Featurizer):
    """MediaPipe Pose (model_complexity=1, tracking mode) -> landmarks -> normalised pose features."""

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5):
        from .mediapipe_pose import mediapipe_version
        from .normalize import NORMALIZATION_VERSION, POSE_FEATURE_DIM

        self.model_complexity = model_complexity
        self.min_detection_confidence = min_detection_confidence
        self.dim = POSE_FEATURE_DIM
        # What shapes the landmarks (cached tracks key on it), and what shapes the features.
        self.tracker_version = f"mediapipe-{mediapipe_version()}-pose-c{model_complexity}-d{min_detection_confidence:g}"
        self.version = f"{self.tracker_version}-{NORMALIZATION_VERSION}"

    def track(self, frames: Iterable[tuple[float, np.ndarray]], fps: float) -> PoseTrack:
        """Run MediaPipe Pose over the frames (one person, tracked from frame to frame); ghosts removed."""
        return drop_ghosts(self.raw_track(frames, fps))

    def pose_options(self) -> dict:
        """The MediaPipe Pose settings every tracker of this featurizer runs with (static_image_mode aside)."""
        return dict(model_complexity=self.model_complexity, smooth_landmarks=False, enable_segmentation=False,
                    min_detection_confidence=self.min_detection_confidence)

    def raw_track(self, frames: Iterable[tuple[float, np.ndarray]], fps: float) -> PoseTrack:
        """MediaPipe's output as is (what the render cache stores; `drop_ghosts` is applied on reading)."""
        import warnings

        from .mediapipe_pose import pose_solution

        found, size = [], (0, 0)
        with warnings.catch_warnings(), pose_solution().Pose(static_image_mode=False, **self.pose_options()) as pose:
            # MediaPipe's result parsing triggers a protobuf deprecation warning; it is not ours to fix.
            warnings.simplefilter("ignore", UserWarning)
            for _, rgb in frames:
                size = (rgb.shape[1], rgb.shape[0])
                lm = landmarks_of(pose.process(np.ascontiguousarray(rgb)))
                found.append(None if lm is None else (lm[0] * size, lm[1], lm[2]))
        return PoseTrack.from_frames(found, size, fps)

    def track_in_crops(self, frames: Iterable[tuple[float, np.ndarray]], fps: float) -> PoseTrack:
        """As `track`, with the pose run on a crop that follows the person (for people too small in the frame)."""
        from .mediapipe_pose import pose_solution
        from .person_crop import CropTracker

        return drop_ghosts(CropTracker(pose_solution(), self.pose_options()).track(frames, fps))

    def featurize(self, frames: Iterable[tuple[float, np.ndarray]], fps: float) -> tuple[np.ndarray, np.ndarray]:
        """Normalised pose features (T, POSE_FEATURE_DIM) and present (T,)."""
        from .normalize import track_to_features

        track = self.track(frames, fps)
        return track_to_features(track), track.present
