"""`VideoFeatures` and the three ways to get them: a real video file, a rendered motion, or projected joints.

- `video_to_features(path)`: decode -> MediaPipe -> normalised features. Used for user queries and
  for evaluation (on rendered video files), always the whole real path.
- `rendered_video_features(motion, camera)`: render -> MediaPipe (no file in between), cached.
- `motion_to_video_features(motion, camera, rng)`: landmarks projected from the joints with noise
  measured on renders (noise_model.json): no rendering, no MediaPipe; for training at scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..motion.motion import Motion
from .camera import Camera, place_camera
from .errors import NoPersonError
from .normalize import POSE_FEATURE_DIM, track_to_features
from .pose import MediaPipePoseFeaturizer
from .track import PoseTrack

VIDEO_FPS = 10.0

__all__ = ["VIDEO_FPS", "POSE_FEATURE_DIM", "VideoFeatures", "video_to_features", "motion_to_video_features",
           "rendered_video_features", "rendered_track", "default_featurizer"]


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
    def from_track(track: PoseTrack, version: str, source: str) -> "VideoFeatures":
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
                      featurizer=None) -> VideoFeatures:
    """Features of a video file sampled at VIDEO_FPS (raises VideoError subclasses with a clear message)."""
    from .decode import iter_frames

    featurizer = featurizer or default_featurizer()
    track = featurizer.track(iter_frames(path, fps=VIDEO_FPS, start=start, end=end), VIDEO_FPS)
    if not track.present.any():
        raise NoPersonError(
            f"no person was found in any of the {len(track)} sampled frames of {path}; use a clip where one "
            "whole person is clearly visible (full body, not too small, reasonably lit).")
    return VideoFeatures.from_track(track, featurizer.version, str(path))


def rendered_track(motion: Motion, camera: Camera, *, featurizer=None, cache: bool = True) -> PoseTrack:
    """MediaPipe's track of `motion` rendered from `camera` at VIDEO_FPS (cached on disk)."""
    from .cache import TrackCache
    from .pose import drop_ghosts
    from .render import RENDERER_VERSION, render_joints, resample_joints

    featurizer = featurizer or default_featurizer()
    store = TrackCache(RENDERER_VERSION, featurizer.tracker_version) if cache else None
    raw = store.get(motion, camera) if store is not None else None
    if raw is None:
        placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
        joints = resample_joints(motion.joints, motion.fps, VIDEO_FPS)
        frames = render_joints(joints, camera, placed=placed)
        raw = featurizer.raw_track(((i / VIDEO_FPS, f) for i, f in enumerate(frames)), VIDEO_FPS)
        if store is not None:
            store.put(motion, camera, raw)
    return drop_ghosts(raw)


def rendered_video_features(motion: Motion, camera: Camera, *, cache: bool = True, featurizer=None) -> VideoFeatures:
    """Features of `motion` rendered from `camera` and run through MediaPipe (no video file; cached)."""
    featurizer = featurizer or default_featurizer()
    track = rendered_track(motion, camera, featurizer=featurizer, cache=cache)
    return VideoFeatures.from_track(track, featurizer.version, f"render:{motion.name}")


def motion_to_video_features(motion: Motion, camera: Camera, rng: np.random.Generator | None = None,
                             noise: bool = True) -> VideoFeatures:
    """Features of landmarks projected from `motion`'s joints, with MediaPipe-like noise (fast; for training)."""
    from .body import random_look
    from .noise import NoiseModel
    from .project import occluded_landmarks, project_track, relative_yaw, torso_pixels
    from .render import resample_joints

    model = NoiseModel.load()
    placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
    joints = resample_joints(motion.joints, motion.fps, VIDEO_FPS)
    truth = project_track(joints, placed, VIDEO_FPS)
    occluded = occluded_landmarks(joints, placed, random_look(np.random.default_rng(camera.seed)))
    track = model.apply(truth, relative_yaw(joints, placed), occluded, torso_pixels(joints, placed),
                        rng if rng is not None else np.random.default_rng(), noise=noise)
    from .normalize import NORMALIZATION_VERSION

    # The same version string as real features: they are meant to be interchangeable.
    version = f"{model.tracker_version}-{NORMALIZATION_VERSION}"
    return VideoFeatures.from_track(track, version, f"projected:{motion.name}")
