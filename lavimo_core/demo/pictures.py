"""Pictures of the demo: the retrieved motion's pose strip (lavimo_core.preview) under its query (text, or video frames)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import atomic_write
from ..motion.motion import Motion

if TYPE_CHECKING:
    from PIL import Image

STRIP_FRAMES = 6
_MARGIN = 8
_BACKGROUND = (255, 255, 255)
_INK = (20, 20, 20)
_DIM = (110, 110, 110)


def motion_strip(motion: Motion, frames: int = STRIP_FRAMES, height: int = 240) -> np.ndarray:
    """`frames` poses of `motion` side by side (lavimo_core.preview's pose strip), RGB uint8."""
    from ..preview import pose_strip

    return pose_strip(motion, n=frames, height=height)[..., :3]   # transparent pixels carry its background colour


def video_strip(path: str | os.PathLike, frames: int = STRIP_FRAMES, height: int = 180) -> np.ndarray:
    """`frames` evenly spaced frames of the video at `path`, scaled to `height` and side by side."""
    from PIL import Image

    from ..video.decode import iter_frames, probe

    duration = probe(path).duration or 1.0
    images = []
    # Sampling at frames/duration yields about `frames` frames; the generator is run to its end (not
    # closed early) so the decoder shuts down normally.
    for _, rgb in iter_frames(path, fps=frames / duration):
        if len(images) < frames:
            h, w = rgb.shape[:2]
            images.append(np.asarray(Image.fromarray(rgb).resize((max(1, round(w * height / h)), height),
                                                                 Image.LANCZOS)))
    return _hstack(images)


def query_picture(rows: list[tuple[str, np.ndarray | None]], title: str) -> Image.Image:
    """A white sheet: `title`, then for each row its caption and image (a strip), stacked."""
    from PIL import Image, ImageDraw

    font, small = _font(18), _font(14)
    width = max([img.shape[1] for _, img in rows if img is not None] + [640]) + 2 * _MARGIN
    line = 26
    height = _MARGIN + line + sum(line + (img.shape[0] + _MARGIN if img is not None else 0) for _, img in rows)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((_MARGIN, _MARGIN), title, fill=_INK, font=font)
    y = _MARGIN + line
    for caption, img in rows:
        draw.text((_MARGIN, y + 4), caption, fill=_DIM, font=small)
        y += line
        if img is not None:
            sheet.paste(Image.fromarray(img), (_MARGIN, y))
            y += img.shape[0] + _MARGIN
    return sheet


def save_png(image: Image.Image, path: str | os.PathLike) -> Path:
    """Write `image` as PNG atomically (temporary file + rename)."""
    with atomic_write(path) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


def _hstack(images: list[np.ndarray]) -> np.ndarray:
    h = max(i.shape[0] for i in images)
    gap = np.full((h, 4, 3), 255, np.uint8)
    out = []
    for i, img in enumerate(images):
        out += ([gap] if i else []) + [img]
    return np.concatenate(out, axis=1)


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)
