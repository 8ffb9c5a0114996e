"""Training features from a motion rendered by the ray tracer and run through MediaPipe (no file in between; cached)."""

from __future__ import annotations

from ..motion.motion import Motion
from ..video.features import VIDEO_FPS, VideoFeatures, default_featurizer
from ..video.track import PoseTrack
from .camera import Camera, place_camera


def rendered_track(motion: Motion, camera: Camera, *, featurizer=None, cache: bool = True) -> PoseTrack:
    """MediaPipe's track of `motion` rendered from `camera` at VIDEO_FPS (cached on disk)."""
    from ..motion.resample import resample_positions
    from ..video.pose import drop_ghosts
    from .cache import TrackCache
    from .render import RENDERER_VERSION, render_joints

    featurizer = featurizer or default_featurizer()
    store = TrackCache(RENDERER_VERSION, featurizer.tracker_version) if cache else None
    raw = store.get(motion, camera) if store is not None else None
    if raw is None:
        placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
        joints = resample_positions(motion.joints, motion.fps, VIDEO_FPS)
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
