"""Cut a time range (with optional handles) out of a motion, so Apply puts three seconds on the rig, not two minutes.

The cut starts exactly at `start - handles` seconds: joints are sampled on the 20 fps grid from that time
(linear between source frames when it falls between them), so the range's first frame lands on a key of
the output frame rate. The cut is moved to the origin and turned to face +Z at its first frame, like any
canonical motion, keeping its height, so a moment found 40 m into a take is applied where the rig stands.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import LavimoError
from ..motion.features import canonicalize_joints
from ..motion.motion import Motion
from ..motion.resample import resample_positions
from .source_pose import SourcePose, similarity


class RangeError(LavimoError, ValueError):
    """A time range that does not lie inside its motion."""


def check_range(start: float, end: float, duration: float, what: str = "the clip") -> tuple[float, float]:
    """(start, end) seconds if both lie inside [0, duration] with start < end, else RangeError saying how to fix it."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RangeError(f"range {start}–{end} s of {what} is not a pair of numbers")
    if start < 0 or end > duration + 1e-6 or end <= start:
        raise RangeError(f"range {start:.2f}–{end:.2f} s lies outside {what} (0.00–{duration:.2f} s) or ends "
                         "before it starts; give a start and an end inside it, start first")
    return float(start), float(min(end, duration))


def handle_frames(start: float, end: float, duration: float, handles: int, fps: float) -> tuple[int, int]:
    """Handles (frames at `fps`) that fit before and after the range inside the motion."""
    if handles < 0:
        raise RangeError(f"handles must be 0 or more frames, got {handles}")
    before = min(handles, int(math.floor(start * fps + 1e-6)))
    after = min(handles, int(math.floor((duration - end) * fps + 1e-6)))
    return before, after


def trim_motion(motion: Motion, start: float, end: float, before: float = 0.0, after: float = 0.0) -> Motion:
    """The part of `motion` from `start - before` to `end + after` seconds (checked), re-placed at the origin."""
    start, end = check_range(start, end, motion.duration, repr(motion.name))
    last = (motion.num_frames - 1) / motion.fps  # the time of the last frame (duration counts one frame more)
    end = min(end, last)
    if end <= start:
        raise RangeError(f"range {start:.2f}–{end:.2f} s of {motion.name!r} holds less than two frames; widen it")
    t0, t1 = max(0.0, start - before), min(last, end + after)
    times = t0 + np.arange(int(math.floor((t1 - t0) * motion.fps + 1e-6)) + 1) / motion.fps
    src = np.clip(times * motion.fps, 0, motion.num_frames - 1)
    i0 = np.minimum(np.floor(src).astype(np.int64), motion.num_frames - 1)
    i1 = np.minimum(i0 + 1, motion.num_frames - 1)
    w = (src - i0)[:, None, None]
    joints = (1 - w) * motion.joints[i0] + w * motion.joints[i1]
    placed = canonicalize_joints(joints)
    placed[..., 1] = joints[..., 1]  # canonicalising also re-floors the cut; keep the take's floor
    name = f"{motion.name} {start:.1f}-{end:.1f}s"
    return Motion(name=name, joints=placed, fps=motion.fps, captions=list(motion.captions), labels=dict(motion.labels),
                  source=motion.source, features=None)


def cut_range(motion: Motion, range_s: tuple[float, float], handles: int, fps: float) -> tuple[Motion, int, int]:
    """The range of `motion` with its handles, the output frame (at `fps`) where the cut starts in `motion`, and
    how many handle frames come before the range.

    The start is snapped to a whole frame at `fps`: keys land on frames anyway, and the source file's own
    rotations (full-body transfer) can then be cut on exactly the same time grid as the joints.
    """
    start, end = range_s
    first_key = round(start * fps) if math.isfinite(start) else start
    start = first_key / fps if math.isfinite(start) else start
    before, after = handle_frames(start, end, motion.duration, handles, fps)
    return trim_motion(motion, start, end, before / fps, after / fps), int(first_key) - before, before


def cut_source_pose(source: SourcePose, whole: Motion, part: Motion, first: int, fps: float) -> SourcePose | None:
    """`source` (the rotations of `whole` at `fps`) for `part`, a cut of `whole` starting at output frame `first`.

    The cut was moved and turned to face +Z at its first frame; its rotations turn the same way. None if the
    frames do not line up (the caller then falls back to the direction solve for extremities).
    """
    full = resample_positions(np.asarray(whole.joints, np.float64), whole.fps, fps)
    piece = resample_positions(np.asarray(part.joints, np.float64), part.fps, fps)
    if first < 0 or first + len(piece) > len(full) or len(source.rotations) != len(full):
        return None
    _, turn, _ = similarity(full[first:first + len(piece)].reshape(-1, 3), piece.reshape(-1, 3))
    return replace(source, rotations=turn @ source.rotations[first:first + len(piece)])
