"""Pose strips of real motions and the PNG writer."""

from __future__ import annotations

import zlib

import numpy as np

from lavimo_core.preview import BACKGROUND, pose_strip, save_png


def read_png(path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA PNG with filter type 0 rows (what save_png writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, (w, h, colour) = 8, b"", (0, 0, 0)
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == int.from_bytes(data[pos + 8 + n:pos + 12 + n], "big")
        if kind == b"IHDR":
            w, h, colour = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big"), body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    c = 4 if colour == 6 else 3
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, c)


def test_strip_of_a_real_motion(walk, bye):
    strip = pose_strip(walk)
    assert strip.shape == (128, 6 * 77, 4) and strip.dtype == np.uint8
    drawn = strip[..., 3] > 0
    assert 0.03 < drawn.mean() < 0.5
    assert (strip[~drawn][:, :3] == BACKGROUND).all()
    # One pose per panel, each panel holds a figure.
    for k in range(6):
        assert drawn[:, k * 77:(k + 1) * 77].any()
    assert not np.array_equal(strip, pose_strip(bye))


def test_square_thumbnail(bye):
    thumb = pose_strip(bye, size=(96, 96))
    assert thumb.shape == (96, 96, 4)
    assert (thumb[..., 3] > 0).mean() > 0.02


def test_png_round_trip(tmp_path, walk):
    strip = pose_strip(walk, n=4, height=64)
    path = save_png(strip, tmp_path / "walk.png")
    assert np.array_equal(read_png(path), strip)
    rgb = np.ascontiguousarray(strip[..., :3])
    assert np.array_equal(read_png(save_png(rgb, tmp_path / "rgb.png")), rgb)
