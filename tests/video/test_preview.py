"""Pose strips of real motions."""

from __future__ import annotations

import numpy as np

from lavimo_core.preview import BACKGROUND, pose_strip


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
