"""What the encoders take: motion features and video pose features per item, checked and cut into windows.

Shared by the torch Embedder and the ONNX one (no torch imported here), so both read their inputs the same way.
"""

from __future__ import annotations

import numpy as np

from ..motion.features import joints_to_features
from ..motion.motion import Motion
from .errors import InputShapeError
from .windows import split_windows


def motion_features(motions: list[Motion]) -> list[np.ndarray]:
    """Each motion's features (computed from its joints when it has none), float32."""
    out = []
    for m in motions:
        f = m.features
        if f is None:
            f = joints_to_features(m.joints)
        out.append(np.asarray(f, dtype=np.float32))
    return out


def check_motion_features(features: list[np.ndarray], expected: int) -> None:
    """InputShapeError unless every array is (frames >= 1, expected)."""
    for i, f in enumerate(features):
        if f.ndim != 2 or f.shape[1] != expected or f.shape[0] < 1:
            raise InputShapeError(f"motion {i}: features must be (frames >= 1, {expected}), got {f.shape}; "
                                  "compute them with lavimo_core.motion.features.joints_to_features")


def video_windows(videos: list, expected: int, window_frames: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Each video's (T, expected) features with its presence flag as one more column, checked and cut into windows
    as long in time as the motion encoder's (`window_frames` at 20 fps); and the video each window belongs to."""
    from ..video.features import VIDEO_FPS

    both = []
    for i, v in enumerate(videos):
        f = np.asarray(v.features, dtype=np.float32)
        if f.ndim != 2 or f.shape[1] != expected or f.shape[0] < 1:
            raise InputShapeError(f"video {i} ({getattr(v, 'source', '')}): features must be (frames >= 1, "
                                  f"{expected}), got {f.shape}; was it made by a different pose featurizer?")
        both.append(np.concatenate([f, np.asarray(v.present, dtype=np.float32)[:, None]], axis=1))
    return split_windows(both, int(round(window_frames * VIDEO_FPS / 20.0)))
