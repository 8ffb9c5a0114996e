"""Video queries for evaluation through the whole real path: render each motion to a video FILE from a
random camera, then decode it, run MediaPipe and featurize it exactly as a user's video would be.

Only the rendered files are kept (they stand in for footage and take most of the time to make); decoding
and pose estimation run on every evaluation.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..motion.motion import Motion
from ..paths import cache_dir
from ..train.clips import clip_seed


def eval_camera(motion: Motion, seed: int):
    """The camera a motion is filmed from in evaluation (random, but fixed per motion and seed)."""
    from ..synthesis.render import random_camera
    return random_camera(np.random.default_rng(clip_seed(seed + 101, motion.name)))


def rendered_video_file(motion: Motion, seed: int = 0, fps: float = 30.0) -> Path:
    """An mp4 of `motion` from its evaluation camera (rendered once, then kept in the cache)."""
    from ..synthesis.cache import motion_hash
    from ..synthesis.render import RENDERER_VERSION, write_video
    camera = eval_camera(motion, seed)
    key = json.dumps([RENDERER_VERSION, motion_hash(motion), camera.key(), fps], sort_keys=True)
    path = cache_dir("eval-videos", RENDERER_VERSION) / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.mp4"
    if not path.is_file():
        write_video(path, motion, camera, fps=fps)  # atomic: an interrupted render leaves no file
    return path


def video_queries(motions: list[Motion], seed: int = 0, fps: float = 30.0, progress: bool = False) -> list:
    """VideoFeatures of every motion's rendered file, through decode -> MediaPipe -> features."""
    from tqdm import tqdm

    from ..video.features import video_to_features
    return [video_to_features(rendered_video_file(m, seed, fps))
            for m in tqdm(motions, desc="video queries", disable=not progress, leave=False)]
