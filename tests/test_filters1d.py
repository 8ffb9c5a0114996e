"""lavimo_core.filters1d (numpy, what the Blender add-on runs) gives scipy.ndimage's results on real clips."""

import numpy as np
import pytest
import scipy.ndimage as ndimage

from lavimo_core import filters1d
from lavimo_core.motion.features import FORWARD_SMOOTHING_SIGMA
from lavimo_core.motion.load import load_motion
from lavimo_core.motion.skeleton import JOINT_INDEX
from lavimo_core.paths import find_dataset
from lavimo_core.retarget.contacts import BLEND_S, CONTACT_HEIGHT_M, MIN_CONTACT_S
from lavimo_core.retarget.root import HEADING_SMOOTHING_S
from lavimo_core.retarget.solve import TWIST_SMOOTHING_S

FPS = 20.0
CLIPS = ("walk_normal_001", "run_normal_001", "kick_normal_001", "bow_active_001", "dance-short_normal_001")


@pytest.fixture(scope="module")
def joints():
    """Canonical joints (T, 22, 3) of real Bandai-Namco clips, and the first 1, 2 and 3 frames of one."""
    data = find_dataset("bandai-namco-1") / "data"
    out = [load_motion(data / f"dataset-1_{c}.bvh").joints.astype(np.float64) for c in CLIPS]
    return out + [out[0][:n] for n in (1, 2, 3)]


@pytest.mark.parametrize("mode", ["reflect", "nearest", "mirror", "wrap"])
def test_gaussian_matches_scipy(joints, mode):
    # The sigmas the add-on uses (heading, twist, HumanML3D's forward direction) and a wide one.
    for sigma in (HEADING_SMOOTHING_S * FPS, TWIST_SMOOTHING_S * FPS, FORWARD_SMOOTHING_SIGMA, 0.4, 30.0):
        for j in joints:
            for axis in (0, -1):
                want = ndimage.gaussian_filter1d(j, sigma, axis=axis, mode=mode)
                np.testing.assert_allclose(filters1d.gaussian_filter1d(j, sigma, axis=axis, mode=mode), want,
                                           rtol=0, atol=1e-12)
    # The default mode and dtype, as scipy: 'reflect', float32 in -> float32 out.
    j32 = joints[0].astype(np.float32)
    got = filters1d.gaussian_filter1d(j32, 2.0, axis=0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ndimage.gaussian_filter1d(j32, 2.0, axis=0))


def test_box_and_maximum_match_scipy(joints):
    for j in joints:
        height = j[:, JOINT_INDEX["left_ankle"], 1]
        for size in (1, 2, 3, 4, 2 * int(round(BLEND_S * FPS)) + 1, 31):
            for mode in ("reflect", "nearest"):
                np.testing.assert_allclose(filters1d.uniform_filter1d(height, size, mode=mode),
                                           ndimage.uniform_filter1d(height, size, mode=mode), rtol=0, atol=1e-12)
                np.testing.assert_array_equal(filters1d.maximum_filter1d(height, size, mode=mode),
                                              ndimage.maximum_filter1d(height, size, mode=mode))


def test_binary_opening_and_closing_match_scipy(joints):
    # Real contact masks (a foot near the floor), before the gaps are filled and short runs dropped.
    masks = [j[:, JOINT_INDEX[f"{s}_foot"], 1] < CONTACT_HEIGHT_M for j in joints for s in ("left", "right")]
    masks += [np.random.default_rng(k).random(60) < 0.5 for k in range(20)]
    for mask in masks:
        for size in (1, 2, 3, 4, int(round(MIN_CONTACT_S * FPS)) + 1, 7):
            np.testing.assert_array_equal(filters1d.binary_closing1d(mask, size),
                                          ndimage.binary_closing(mask, np.ones(size)))
            np.testing.assert_array_equal(filters1d.binary_opening1d(mask, size),
                                          ndimage.binary_opening(mask, np.ones(size)))


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown border mode 'edge'"):
        filters1d.gaussian_filter1d(np.zeros(5), 1.0, mode="edge")
