"""Decode a video file with PyAV: probe it, and stream RGB frames sampled at a target rate.

Frames are picked by presentation time (pts x time_base), so variable-frame-rate phone clips sample
correctly, and are turned upright by the display matrix (the 'rotate' tag of older files included).
Only sampled frames are converted to RGB, and only one frame is held at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CorruptVideoError, EmptyVideoError, NotAVideoError

# Leading bytes of containers we know, to tell "corrupt video" from "not a video at all".
_MEDIA_MAGIC = (b"\x1aE\xdf\xa3", b"RIFF", b"OggS", b"FLV", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as displayed (width/height after rotation)."""

    path: str
    width: int
    height: int
    fps: float          # average frame rate
    duration: float     # seconds (0 when the container does not say)
    frames: int         # frame count from the container, or estimated from duration x fps
    codec: str
    rotation: int       # degrees counter-clockwise applied for display
    has_audio: bool


def _looks_like_media(path: Path) -> bool:
    head = path.read_bytes()[:12] if path.stat().st_size < 64 else path.open("rb").read(12)
    return head[4:8] == b"ftyp" or head[4:8] in (b"moov", b"mdat", b"free", b"wide") or head.startswith(_MEDIA_MAGIC)


def _open(path: str | Path):
    """Open a container and its first video stream, or raise a VideoError that says what is wrong."""
    import av

    path = Path(path)
    if not path.exists():
        raise NotAVideoError(f"video file {path} does not exist; check the path.")
    if path.is_dir():
        raise NotAVideoError(f"{path} is a folder, not a video file; choose a video file (mp4, mov, mkv, webm, avi).")
    if path.stat().st_size == 0:
        raise EmptyVideoError(f"video file {path} is empty (0 bytes); re-export or re-copy it.")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        if _looks_like_media(path):
            raise CorruptVideoError(
                f"video file {path} is corrupt or incomplete ({exc.strerror or exc}); re-export or re-copy it.") from exc
        raise NotAVideoError(
            f"{path} is not a video file that can be read ({exc.strerror or exc}); "
            "use a common video file (mp4, mov, mkv, webm, avi).") from exc
    except av.error.FFmpegError as exc:
        raise CorruptVideoError(f"video file {path} could not be opened: {exc}") from exc
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        container.close()
        what = "audio only" if kinds == ["audio"] else ("no streams" if not kinds else "only " + ", ".join(kinds))
        raise NotAVideoError(f"{path} has no video stream ({what}); choose a file with video in it.")
    stream = container.streams.video[0]
    if stream.codec_context is None:  # a damaged header naming no codec FFmpeg knows (found by fuzzing)
        container.close()
        raise CorruptVideoError(f"video file {path} is corrupt: its video stream has no known codec; re-export or "
                                "re-copy it.")
    return container, stream


def _rotation(stream) -> int:
    """Rotation from the older 'rotate' metadata tag (clockwise degrees), as counter-clockwise degrees."""
    try:
        return -int(float(stream.metadata.get("rotate", 0)))
    except ValueError:
        return 0


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    k = int(round(rotation / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(image, k)) if k else image


def probe(path: str | Path) -> VideoInfo:
    """Describe a video file without decoding it (raises NotAVideoError / CorruptVideoError)."""
    container, stream = _open(path)
    with container:
        fps = float(stream.average_rate or stream.guessed_rate or stream.base_rate or 0)
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        frames = int(stream.frames or round(duration * fps))
        rotation = _rotation(stream)
        if rotation == 0:
            # The display matrix travels as side data on decoded frames; one frame is enough to read it.
            try:
                first = next(container.decode(stream), None)
                rotation = int(first.rotation) if first is not None else 0
            except Exception:  # noqa: BLE001 - probing must describe even a file whose first frame is broken
                rotation = 0
        w, h = stream.codec_context.width, stream.codec_context.height
        if int(round(rotation / 90.0)) % 2:
            w, h = h, w
        return VideoInfo(str(path), w, h, fps, duration, frames, stream.codec_context.name, rotation,
                         bool(container.streams.audio))


def iter_frames(path: str | Path, fps: float | None = None, start: float | None = None,
                end: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (t_seconds, upright RGB uint8 (H, W, 3)) from `path`, streaming.

    With `fps`, one frame per 1/fps seconds from `start` (the frame nearest each time, so t is that
    sample time); without, every frame and its own time. Times count from the video's first frame.
    """
    import av

    if start is not None and end is not None and end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    container, stream = _open(path)
    with container:
        stream.thread_type = "AUTO"
        tag_rotation = _rotation(stream)
        tb = stream.time_base
        t0 = float(stream.start_time * tb) if stream.start_time is not None else None
        if start:
            # Seek to the keyframe before `start`; decoding from there reaches it exactly.
            try:
                origin = stream.start_time or 0
                container.seek(origin + int(start / tb), stream=stream, backward=True)
            except av.error.FFmpegError:
                container.seek(0)
        start = start or 0.0
        target = start
        prev = None            # (t, frame) of the last decoded frame before the next target
        frame_dt = 0.0         # last interval between frames: how long the final frame is shown
        emitted = 0
        decoded = 0
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * tb)
                if t0 is None:
                    t0 = t
                t -= t0
                decoded += 1
                if fps is None:
                    if t < start - 1e-6:
                        continue
                    if end is not None and t >= end:
                        break
                    emitted += 1
                    yield t, _upright(frame.to_ndarray(format="rgb24"), frame.rotation or tag_rotation)
                    continue
                # Emit every target time that this frame is past, using whichever of prev/this is nearer.
                while t >= target and (end is None or target < end):
                    best = prev if prev is not None and (target - prev[0]) < (t - target) else (t, frame)
                    emitted += 1
                    yield target, _upright(best[1].to_ndarray(format="rgb24"), best[1].rotation or tag_rotation)
                    target = start + emitted / fps
                if end is not None and target >= end:
                    break
                if prev is not None:
                    frame_dt = t - prev[0]
                prev = (t, frame)
            # Targets while the last frame is still on screen get that frame.
            if fps is not None and prev is not None:
                while target < prev[0] + max(frame_dt, 1e-3) - 1e-6 and (end is None or target < end):
                    emitted += 1
                    yield target, _upright(prev[1].to_ndarray(format="rgb24"), prev[1].rotation or tag_rotation)
                    target = start + emitted / fps
        except av.error.FFmpegError as exc:
            if emitted == 0:
                raise CorruptVideoError(f"video file {path} could not be decoded ({exc}); re-export or re-copy it.") from exc
            # A truncated tail: keep what was decoded.
            return
        if emitted == 0:
            where = f" between {start:g} s and {end:g} s" if end is not None else (f" after {start:g} s" if start else "")
            if decoded == 0:
                raise EmptyVideoError(f"video file {path} has no frames that can be decoded; re-export it.")
            raise EmptyVideoError(f"video file {path} has no frames{where}; choose a range inside the clip.")


class TimedFrames:
    """Wrap a frame iterator and add up the seconds spent producing frames (decode time, apart from the consumer's)."""

    def __init__(self, frames):
        self._frames = iter(frames)
        self.seconds = 0.0
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self):
        import time

        t = time.perf_counter()
        try:
            item = next(self._frames)
        finally:
            self.seconds += time.perf_counter() - t
        self.count += 1
        return item
