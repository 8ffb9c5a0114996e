"""Prepare rendered-video features for a whole dataset: a few fixed random cameras per clip, cached.

Training and evaluation then read features from the cache instead of rendering and running
MediaPipe again. Each clip's cameras are drawn from a generator seeded by the clip's content, so
every run (and every machine) renders the same videos.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..motion.motion import Motion
from ..video.features import VideoFeatures, default_featurizer
from .cache import motion_hash
from .camera import Camera, random_camera
from .rendered import rendered_track


def dataset_cameras(motion: Motion, n: int = 2, size: tuple[int, int] = (640, 480)) -> list[Camera]:
    """The n cameras a clip is rendered from when preparing a dataset (deterministic per clip content)."""
    rng = np.random.default_rng(int(motion_hash(motion)[:16], 16))
    return [random_camera(rng, size) for _ in range(n)]


def _track_job(args):
    motion, camera = args
    rendered_track(motion, camera)   # renders, runs MediaPipe and writes the cache entry
    return motion.name


def prepare_rendered_features(motions: Sequence[Motion], cameras_per_clip: int = 2, *, workers: int = 1,
                              progress: bool = True) -> dict[str, list[VideoFeatures]]:
    """Rendered-video features for every (motion, camera); cached entries are reused, missing ones made.

    `workers` > 1 runs that many processes (MediaPipe is single-threaded per graph).
    """
    from tqdm import tqdm

    featurizer = default_featurizer()
    jobs = [(m, c) for m in motions for c in dataset_cameras(m, cameras_per_clip)]
    bar = tqdm(total=len(jobs), desc="rendered video features", unit="video", disable=not progress)
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: MediaPipe and OpenCV hold threads that do not survive fork.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for _ in pool.map(_track_job, jobs, chunksize=1):
                bar.update()
    out: dict[str, list[VideoFeatures]] = {}
    for m, c in jobs:
        track = rendered_track(m, c, featurizer=featurizer)
        out.setdefault(m.name, []).append(VideoFeatures.from_track(track, featurizer.version, f"render:{m.name}"))
        if workers <= 1:
            bar.update()
    bar.close()
    return out
