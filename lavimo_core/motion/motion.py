"""`Motion`: one canonical clip (joints at 20 fps) with its captions, labels and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .skeleton import FPS, NUM_JOINTS


@dataclass
class SourceInfo:
    """Where a motion came from, so results can be traced and licensed."""

    path: str = ""            # source file (BVH, npy, ...), as given
    format: str = ""          # "bvh", "humanml3d", ...
    skeleton: str = ""        # detected source skeleton ("bandai-namco", "mixamo", ...)
    fps: float = 0.0          # frame rate of the source file
    duration: float = 0.0     # seconds, in the source
    license: str = ""         # e.g. "CC BY-NC 4.0"
    attribution: str = ""     # who to credit


@dataclass
class Motion:
    """A canonical clip: joints (T, 22, 3) in metres, Y up, ground at y=0, facing +Z at frame 0, 20 fps."""

    name: str
    joints: np.ndarray
    fps: float = FPS
    captions: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    source: SourceInfo = field(default_factory=SourceInfo)
    # HumanML3D features (T-1, 263), un-normalised; filled by the import pipeline (features.py).
    features: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.joints = np.asarray(self.joints, dtype=np.float32)
        if self.joints.ndim != 3 or self.joints.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"motion {self.name!r}: joints must be (T, {NUM_JOINTS}, 3), got {self.joints.shape}")

    @property
    def num_frames(self) -> int:
        """Number of frames at `fps`."""
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.fps
