"""Write RGB frames to a video file with PyAV (H.264 mp4 by default), atomically."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..atomic import atomic_write

# Pixel format each encoder is fed; all decoders of common players accept these.
_PIX_FMT = {"libx264": "yuv420p", "libx265": "yuv420p", "libvpx-vp9": "yuv420p", "mpeg4": "yuv420p",
            "mjpeg": "yuvj420p"}


def write_frames(path: str | Path, frames: Iterable[np.ndarray], *, fps: float = 30.0, codec: str = "libx264",
                 rotation: float = 0.0, crf: int = 20, time_stamps: Iterable[float] | None = None) -> Path:
    """Encode RGB frames (H, W, 3) uint8 to `path`; the container comes from the suffix (.mp4, .mkv, .webm, ...).

    `rotation` stores a display rotation (degrees counter-clockwise) instead of turning the pixels, as
    phones do. `time_stamps` (seconds, increasing) gives each frame its own time: a variable frame rate.
    """
    import av

    path = Path(path)
    stamps = iter(time_stamps) if time_stamps is not None else None
    # Milliseconds for a variable rate; else one tick per frame (MPEG-4 part 2 caps the denominator at 65535).
    time_base = Fraction(1, 1000) if stamps is not None else 1 / Fraction(fps).limit_denominator(1001)
    with atomic_write(path) as tmp, av.open(str(tmp), mode="w") as container:
        stream = None
        for i, rgb in enumerate(frames):
            if stream is None:
                h, w = rgb.shape[:2]
                stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = w - w % 2, h - h % 2
                stream.pix_fmt = _PIX_FMT.get(codec, "yuv420p")
                stream.time_base = time_base
                stream.codec_context.time_base = time_base   # else the encoder rounds times to 1/fps
                if codec in ("libx264", "libx265"):
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
                if codec == "libx265":
                    stream.options["x265-params"] = "log-level=error"
                if codec == "libvpx-vp9":
                    stream.options = {"crf": str(crf + 12), "b": "0", "deadline": "realtime", "cpu-used": "8"}
                if rotation:
                    stream.set_display_rotation(rotation)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: stream.height, : stream.width]),
                                               format="rgb24")
            t = next(stamps) if stamps is not None else i / fps
            frame.pts = int(round(t / time_base))
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        if stream is None:
            raise ValueError(f"no frames to write to {path}")
        container.mux(stream.encode(None))
    return path
