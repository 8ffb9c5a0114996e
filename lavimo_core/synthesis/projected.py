"""Training features from landmarks projected off a motion's joints, with MediaPipe-like noise measured on renders.

No rendering and no MediaPipe (noise_model.json holds the measured noise): fast enough for training at scale.
"""

from __future__ import annotations

import numpy as np

from ..motion.motion import Motion
from ..motion.root_travel import without_ground_travel
from ..video.features import VIDEO_FPS, VideoFeatures
from .camera import Camera, place_camera
from .capture import Capture, apply_capture


def motion_to_video_features(motion: Motion, camera: Camera, rng: np.random.Generator | None = None,
                             noise: bool = True, capture: Capture | None = None) -> VideoFeatures:
    """Features of landmarks projected from `motion`'s joints, with MediaPipe-like noise (fast; for training).

    `capture`: the source frame rate, upper-body-only framing and a camera travelling with the person to imitate
    (domain randomisation, capture.py).
    """
    from ..motion.resample import resample_positions
    from .body import random_look
    from .noise import NoiseModel
    from .project import occluded_landmarks, project_track, relative_yaw, torso_pixels

    model = NoiseModel.load()
    if capture is not None and capture.in_place:
        motion = Motion(motion.name, without_ground_travel(motion.joints), motion.fps)
    placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
    joints = resample_positions(motion.joints, motion.fps, VIDEO_FPS)
    truth = project_track(joints, placed, VIDEO_FPS)
    occluded = occluded_landmarks(joints, placed, random_look(np.random.default_rng(camera.seed)))
    track = model.apply(truth, relative_yaw(joints, placed), occluded, torso_pixels(joints, placed),
                        rng if rng is not None else np.random.default_rng(), noise=noise)
    if capture is not None:
        track = apply_capture(track, capture, rng if rng is not None else np.random.default_rng())
    from ..video.normalize import NORMALIZATION_VERSION

    # The same version string as real features: they are meant to be interchangeable.
    version = f"{model.tracker_version}-{NORMALIZATION_VERSION}"
    return VideoFeatures.from_track(track, version, f"projected:{motion.name}")
