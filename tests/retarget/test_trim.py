"""Cutting a range with handles out of a real clip: exact times, placed at the origin, clear refusals."""

import numpy as np
import pytest

from lavimo_core.data.cache import load_motion_cached
from lavimo_core.paths import find_dataset
from lavimo_core.retarget.trim import RangeError, handle_frames, trim_motion


@pytest.fixture(scope="module")
def walk():
    return load_motion_cached(find_dataset("bandai-namco-1") / "data" / "dataset-1_walk_normal_001.bvh")


def _pose(j):  # joints relative to the pelvis, up axis kept: what a rigid move along the floor cannot change
    return np.linalg.norm(j - j[:, :1], axis=-1)


def test_a_range_on_the_frame_grid_is_those_frames_placed_at_the_origin(walk):
    cut = trim_motion(walk, 1.0, 2.5)
    assert cut.num_frames == 31  # frames 20..50 inclusive
    np.testing.assert_allclose(_pose(cut.joints), _pose(walk.joints[20:51]), atol=1e-5)
    np.testing.assert_allclose(cut.joints[..., 1], walk.joints[20:51, :, 1], atol=1e-6)  # same floor
    assert np.allclose(cut.joints[0, 0, [0, 2]], 0, atol=1e-6)
    assert "1.0-2.5s" in cut.name and cut.features is None


def test_handles_extend_the_cut_and_stop_at_the_clip_ends(walk):
    fps = 24.0
    before, after = handle_frames(0.25, 2.0, walk.duration, 12, fps)
    assert (before, after) == (6, 12)  # only 0.25 s (6 frames at 24 fps) exist before the range
    cut = trim_motion(walk, 0.25, 2.0, before / fps, after / fps)
    assert cut.duration == pytest.approx((2.0 + 0.5) / 1 + 1 / 20)  # 0.0 .. 2.5 s, inclusive frames
    np.testing.assert_allclose(_pose(cut.joints), _pose(walk.joints[0:51]), atol=1e-5)


@pytest.mark.parametrize("start,end", [(-1.0, 2.0), (1.0, 999.0), (3.0, 2.0), (float("nan"), 1.0)])
def test_a_range_outside_the_clip_is_refused_with_the_clip_length(walk, start, end):
    with pytest.raises(RangeError, match=r"range .* (lies outside 'dataset-1_walk_normal_001' \(0.00–\d+\.\d\d s\)|not a pair)"):
        trim_motion(walk, start, end)
    with pytest.raises(RangeError, match="handles must be 0 or more"):
        handle_frames(1.0, 2.0, walk.duration, -3, 24)
