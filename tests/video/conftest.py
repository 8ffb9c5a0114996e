"""Real motions and videos rendered from them, shared by the video tests (small sizes keep MediaPipe quick)."""

from __future__ import annotations

import numpy as np
import pytest

from lavimo_core.motion.load import load_motion
from lavimo_core.motion.motion import Motion
from lavimo_core.paths import find_dataset

DATA = find_dataset("bandai-namco-1") / "data"


def bandai(name: str, seconds: float | None = None) -> Motion:
    """A real Bandai-Namco clip (optionally its first `seconds`)."""
    m = load_motion(DATA / f"dataset-1_{name}.bvh")
    if seconds is not None:
        m = Motion(m.name, m.joints[: int(seconds * m.fps)], m.fps, m.captions, m.labels, m.source)
    return m


@pytest.fixture(scope="session")
def clip():
    """Load a real Bandai-Namco clip by the middle of its name: clip("walk_normal_001", seconds=3.0)."""
    return bandai


@pytest.fixture(scope="session")
def bye() -> Motion:
    """A short in-place clip: waving goodbye (3 s)."""
    return bandai("bye_normal_001", 3.0)


@pytest.fixture(scope="session")
def walk() -> Motion:
    """A walk forward, whole clip."""
    return bandai("walk_normal_001")


@pytest.fixture(scope="session")
def rendered_mp4(tmp_path_factory, bye) -> object:
    """An H.264 mp4 (320x240, 20 fps) of the bye clip seen from the front-left."""
    from lavimo_core.synthesis.render import Camera, write_video

    path = tmp_path_factory.mktemp("videos") / "bye.mp4"
    return write_video(path, bye, Camera(azimuth=20.0, elevation=8.0, distance=3.0, size=(320, 240), seed=3),
                       fps=20.0)


@pytest.fixture(scope="session")
def bye_frames(bye) -> list[np.ndarray]:
    """Rendered frames of the bye clip at 10 fps (320x240), each with a white square whose place
    encodes the frame number, so a decoded frame can be told from its neighbours after lossy coding."""
    from lavimo_core.synthesis.render import Camera, render_motion

    frames = list(render_motion(bye, Camera(azimuth=20.0, size=(320, 240), seed=3), fps=10.0))
    for i, f in enumerate(frames):
        x, y = 4 + 20 * (i % 15), 4 + 20 * (i // 15)
        f[y:y + 16, x:x + 16] = 255
    return frames
