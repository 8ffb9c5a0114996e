"""Per-feature mean/std normalisation of HumanML3D features, with HumanML3D's per-block std."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LavimoError
from .features import FEATURE_SLICES
from .skeleton import FEATURE_DIM

# Blocks whose std text-to-motion (Guo et al.) divides by its `feat_bias` (5) when training, so that
# these few columns weigh more in a loss; HumanML3D's released Std.npy uses 1 for every block.
FEAT_BIAS_BLOCKS = ("root_rot_vel", "root_lin_vel", "root_y", "foot_contact")
_MIN_STD = 1e-8


class NormalizerError(LavimoError, ValueError):
    """Statistics that are missing, malformed or do not fit the features."""


def _stats(values: Any, what: str, source: str) -> np.ndarray:
    """A validated finite (263,) float32 vector."""
    try:
        v = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise NormalizerError(f"{source}: {what} is not a list of numbers ({e})") from None
    if v.shape != (FEATURE_DIM,):
        raise NormalizerError(f"{source}: {what} must have shape ({FEATURE_DIM},) (HumanML3D features); got {v.shape}")
    if not np.isfinite(v).all():
        raise NormalizerError(f"{source}: {what} contains NaN or infinite values; recompute the statistics")
    return v


class Normalizer:
    """x -> (x - mean) / std over the 263 feature columns; works on numpy arrays and torch tensors."""

    def __init__(self, mean: Any, std: Any, *, source: str = "normalizer") -> None:
        self.mean = _stats(mean, "mean", source)
        self.std = _stats(std, "std", source)
        if (self.std <= 0).any():
            raise NormalizerError(f"{source}: std has {(self.std <= 0).sum()} zero or negative values; "
                                  "recompute the statistics")

    def _like(self, x: Any) -> tuple[Any, Any]:
        """mean and std as the same kind of array as x (torch tensors keep their dtype and device)."""
        if hasattr(x, "new_tensor"):
            return x.new_tensor(self.mean), x.new_tensor(self.std)
        return self.mean, self.std

    def normalize(self, x: Any) -> Any:
        """Features (..., 263) -> normalised features."""
        mean, std = self._like(x)
        return (x - mean) / std

    def denormalize(self, x: Any) -> Any:
        """Normalised features (..., 263) -> features."""
        mean, std = self._like(x)
        return x * std + mean

    @classmethod
    def fit(cls, features: Sequence[np.ndarray], feat_bias: float = 1.0) -> Normalizer:
        """Statistics of a list of (T, 263) feature arrays, std averaged per block as HumanML3D's cal_mean_variance.

        feat_bias=1 gives HumanML3D's Mean/Std; 5 reproduces text-to-motion's training weighting
        (root and foot-contact std divided by 5).
        """
        arrays = [np.asarray(f, dtype=np.float64) for f in features]
        for i, f in enumerate(arrays):
            if f.ndim != 2 or f.shape[1] != FEATURE_DIM:
                raise NormalizerError(f"features[{i}] must have shape (T, {FEATURE_DIM}); got {f.shape}")
            if not np.isfinite(f).all():
                raise NormalizerError(f"features[{i}] contains NaN or infinite values; drop that clip "
                                      "(HumanML3D skips such clips when it builds Mean/Std)")
        if not arrays or sum(len(f) for f in arrays) < 2:
            raise NormalizerError("need at least 2 frames of features to fit a normalizer")
        data = np.concatenate(arrays)
        mean, std = data.mean(axis=0), data.std(axis=0)
        for name, block in FEATURE_SLICES.items():
            std[block] = std[block].mean() / (feat_bias if name in FEAT_BIAS_BLOCKS else 1.0)
        # A block that never varies (e.g. feet always in contact) normalises to 0 instead of inf.
        std[std < _MIN_STD] = 1.0
        return cls(mean, std, source="Normalizer.fit")

    @classmethod
    def from_humanml3d(cls, directory: str | Path) -> Normalizer:
        """Read HumanML3D's Mean.npy and Std.npy from a dataset folder."""
        directory = Path(directory)
        arrays = []
        for name in ("Mean.npy", "Std.npy"):
            path = directory / name
            if not path.is_file():
                raise NormalizerError(f"{path} not found; a HumanML3D/KIT-ML folder has Mean.npy and Std.npy "
                                      "next to new_joint_vecs/ (or fit a Normalizer on the features)")
            try:
                arrays.append(np.load(path, allow_pickle=False))
            except (ValueError, OSError, EOFError) as e:
                raise NormalizerError(f"{path} is not a readable .npy array ({e}); re-download it") from None
        return cls(arrays[0], arrays[1], source=str(directory))

    def to_dict(self) -> dict[str, list[float]]:
        """Plain lists, for JSON."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalizer:
        """Inverse of to_dict."""
        if not isinstance(data, dict) or "mean" not in data or "std" not in data:
            raise NormalizerError("normalizer data must be a dict with 'mean' and 'std' lists")
        return cls(data["mean"], data["std"], source="normalizer data")
