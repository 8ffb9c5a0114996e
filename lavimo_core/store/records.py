"""`MotionRecord`: one stored motion's metadata (a row of a segment's motions.json), and the path key used to match sources."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from ..motion.motion import Motion, SourceInfo
from ..motion.skeleton import FPS
from .errors import StoreCorruptError

_SOURCE_FIELDS = tuple(f.name for f in dataclasses.fields(SourceInfo))


@dataclass(frozen=True)
class MotionRecord:
    """What the store knows about a motion besides its arrays; offsets locate them in the segment's motions file."""

    id: str  # unique in the store: the motion name, made unique with "~2", "~3", ...
    name: str
    fps: float
    frames: int
    duration: float  # seconds
    joints_offset: int  # first row of this motion in the segment's "joints"
    feature_frames: int
    features_offset: int  # first row in the segment's "features"
    captions: list[str]
    labels: dict[str, str]
    source: SourceInfo

    @classmethod
    def of(cls, motion_id: str, m: Motion, joints_offset: int, features_offset: int) -> MotionRecord:
        """The record of Motion `m` stored as `motion_id` at these offsets."""
        s = m.source
        source = SourceInfo(str(s.path), s.format, s.skeleton, float(s.fps), float(s.duration), s.license, s.attribution)
        return cls(motion_id, m.name, float(m.fps), m.num_frames, m.duration, joints_offset, int(len(m.features)),
                   features_offset, [str(c) for c in m.captions], {str(k): str(v) for k, v in m.labels.items()}, source)

    @classmethod
    def from_dict(cls, d: dict, where: str) -> MotionRecord:
        """Parse a motions.json record (format.py); StoreCorruptError naming `where` if it is malformed."""
        try:
            source = d.get("source") or {}
            return cls(str(d["id"]), str(d["name"]), float(d.get("fps", FPS)), int(d["frames"]), float(d["duration"]),
                       int(d["joints_offset"]), int(d["feature_frames"]), int(d["features_offset"]),
                       [str(c) for c in d["captions"]], {str(k): str(v) for k, v in d["labels"].items()},
                       SourceInfo(**{k: source[k] for k in _SOURCE_FIELDS if k in source}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreCorruptError(f"store is damaged: a record in {where} is malformed ({type(exc).__name__}: "
                                    f"{exc}). Rebuild the store with `lavimo index`") from None

    def to_dict(self) -> dict:
        """The motions.json form."""
        return dataclasses.asdict(self)

    def at_offsets(self, joints_offset: int, features_offset: int) -> MotionRecord:
        """This record with its arrays at other offsets (compaction rewrites a segment's arrays)."""
        return dataclasses.replace(self, joints_offset=joints_offset, features_offset=features_offset)


def source_key(path: str | os.PathLike) -> str:
    """A source path in the form two paths to the same file compare equal in ("" for no path)."""
    return os.path.normcase(os.path.abspath(os.fspath(path))) if path else ""
