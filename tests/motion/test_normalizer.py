"""Normalizer: HumanML3D's grouped statistics, its real Mean/Std, and safe loading."""

import json

import numpy as np
import pytest
import torch

from lavimo_core.motion.features import FEATURE_SLICES
from lavimo_core.motion.normalizer import Normalizer, NormalizerError
from lavimo_core.paths import find_dataset


@pytest.fixture(scope="module")
def root():
    return find_dataset("humanml3d-sample")


@pytest.fixture(scope="module")
def features(root):
    return np.load(root / "new_joint_vecs" / "012314.npy", allow_pickle=False)


def test_real_statistics_normalise_the_real_clip(root, features):
    norm = Normalizer.from_humanml3d(root)
    z = norm.normalize(features)
    assert z.dtype == np.float32 and z.shape == features.shape
    # One clip against statistics of the whole dataset: roughly centred, roughly unit scale
    # (measured: mean -0.13, std 1.47; per block |mean| <= 0.43, std 0.43 .. 2.7).
    assert abs(z.mean()) < 0.3 and 0.7 < z.std() < 2.0
    for block, cols in FEATURE_SLICES.items():
        assert abs(z[:, cols].mean()) < 0.6 and 0.2 < z[:, cols].std() < 4.0, block
    assert np.abs(norm.denormalize(z) - features).max() < 1e-5


def test_round_trip_numpy_and_torch(root, features):
    norm = Normalizer.from_humanml3d(root)
    x = torch.from_numpy(features).double()
    z = norm.normalize(x)
    assert isinstance(z, torch.Tensor) and z.dtype == torch.float64
    assert torch.allclose(norm.denormalize(z), x, atol=1e-9)
    assert np.allclose(z.numpy(), norm.normalize(features), atol=1e-5)


def test_fit_groups_std_per_block_like_humanml3d(features):
    halves = [features[:80], features[80:]]
    norm = Normalizer.fit(halves)
    assert np.allclose(norm.mean, features.mean(0), atol=1e-6)
    raw_std = features.astype(np.float64).std(0)
    for block, cols in FEATURE_SLICES.items():
        assert np.allclose(norm.std[cols], raw_std[cols].mean(), rtol=1e-5), block
    weighted = Normalizer.fit(halves, feat_bias=5.0)
    for block, cols in FEATURE_SLICES.items():
        ratio = norm.std[cols] / weighted.std[cols]
        assert np.allclose(ratio, 5.0 if block in ("root_rot_vel", "root_lin_vel", "root_y", "foot_contact") else 1.0)


def test_fit_keeps_constant_blocks_finite(features):
    still = features.copy()
    still[:, FEATURE_SLICES["foot_contact"]] = 1.0       # feet always down: zero std
    norm = Normalizer.fit([still])
    assert np.isfinite(norm.normalize(still)).all()


def test_dict_round_trip_through_json(root):
    norm = Normalizer.from_humanml3d(root)
    back = Normalizer.from_dict(json.loads(json.dumps(norm.to_dict())))
    assert np.array_equal(back.mean, norm.mean) and np.array_equal(back.std, norm.std)


def test_bad_statistics_are_rejected(root, features, tmp_path):
    with pytest.raises(NormalizerError, match="Mean.npy not found"):
        Normalizer.from_humanml3d(tmp_path)
    np.save(tmp_path / "Mean.npy", np.array([{"not": "numbers"}], dtype=object))
    np.save(tmp_path / "Std.npy", np.ones(263, np.float32))
    with pytest.raises(NormalizerError, match="not a readable .npy"):   # object arrays need pickle
        Normalizer.from_humanml3d(tmp_path)
    np.save(tmp_path / "Mean.npy", np.zeros(251, np.float32))          # KIT-ML statistics
    with pytest.raises(NormalizerError, match=r"shape \(263,\).*\(251,\)"):
        Normalizer.from_humanml3d(tmp_path)
    with pytest.raises(NormalizerError, match="zero or negative"):
        Normalizer(np.zeros(263), np.zeros(263))
    with pytest.raises(NormalizerError, match="'mean' and 'std'"):
        Normalizer.from_dict({"mean": [0.0] * 263})
    with pytest.raises(NormalizerError, match="NaN"):
        Normalizer.from_dict({"mean": [float("nan")] * 263, "std": [1.0] * 263})
    bad = features.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NormalizerError, match=r"features\[1\].*NaN"):
        Normalizer.fit([features, bad])
    with pytest.raises(NormalizerError, match=r"features\[0\] must have shape"):
        Normalizer.fit([features[:, :100]])
    with pytest.raises(NormalizerError, match="at least 2 frames"):
        Normalizer.fit([])
