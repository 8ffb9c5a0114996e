"""Filters along one axis of an array, in numpy: the few of scipy.ndimage's that retargeting and featurizing use
(Gaussian, box, running maximum, binary opening and closing), with its window placement and border modes, so
the Blender add-on runs without scipy (114 MB installed). tests/test_filters1d.py holds them to scipy's results."""

from __future__ import annotations

import numpy as np

# scipy.ndimage's mode names -> numpy.pad's: scipy's 'reflect' repeats the edge sample (d c b a | a b c d).
_PAD_MODES = {"reflect": "symmetric", "nearest": "edge", "mirror": "reflect", "wrap": "wrap"}


def _extend(x: np.ndarray, before: int, after: int, axis: int, mode: str, cval: float = 0.0) -> np.ndarray:
    """`x` with `axis` moved last and extended by `before` and `after` samples as scipy's border `mode` does."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    pad = [(0, 0)] * (x.ndim - 1) + [(before, after)]
    if mode == "constant":
        return np.pad(x, pad, mode="constant", constant_values=cval)
    if mode not in _PAD_MODES:
        raise ValueError(f"unknown border mode {mode!r}; use 'constant' or one of {sorted(_PAD_MODES)}")
    return np.pad(x, pad, mode=_PAD_MODES[mode])


def _windows(x: np.ndarray, size: int, before: int, axis: int, mode: str, cval: float = 0.0) -> np.ndarray:
    """Sliding windows (..., T, size), `axis` moved last: output sample i sees input samples i - before ...
    i - before + size - 1 (scipy's window placement)."""
    padded = _extend(x, before, size - 1 - before, axis, mode, cval)
    return np.lib.stride_tricks.sliding_window_view(padded, size, axis=-1)


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """scipy.ndimage's normalised Gaussian weights, radius int(truncate * sigma + 0.5) samples."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (float(sigma) ** 2) * x ** 2)
    return phi / phi.sum()


def gaussian_filter1d(x: np.ndarray, sigma: float, axis: int = -1, mode: str = "reflect",
                      truncate: float = 4.0) -> np.ndarray:
    """`x` smoothed along `axis` by a Gaussian of `sigma` samples, as scipy.ndimage.gaussian_filter1d (same dtype)."""
    x = np.asarray(x)
    weights = gaussian_kernel(sigma, truncate)
    radius = len(weights) // 2
    padded = _extend(x.astype(np.float64), radius, radius, axis, mode)
    n = x.shape[axis]
    out = weights[radius] * padded[..., radius:radius + n]
    for k in range(1, radius + 1):  # the kernel is symmetric: pair the samples k before and k after
        out += weights[radius + k] * (padded[..., radius - k:radius - k + n] + padded[..., radius + k:radius + k + n])
    return np.moveaxis(out, -1, axis).astype(x.dtype, copy=False)


def uniform_filter1d(x: np.ndarray, size: int, axis: int = -1, mode: str = "reflect") -> np.ndarray:
    """Mean over a window of `size` samples along `axis`, as scipy.ndimage.uniform_filter1d."""
    x = np.asarray(x)
    out = _windows(x.astype(np.float64), size, size // 2, axis, mode).mean(-1)
    return np.moveaxis(out, -1, axis).astype(x.dtype, copy=False)


def maximum_filter1d(x: np.ndarray, size: int, axis: int = -1, mode: str = "reflect") -> np.ndarray:
    """Maximum over a window of `size` samples along `axis`, as scipy.ndimage.maximum_filter1d."""
    return np.moveaxis(_windows(x, size, size // 2, axis, mode).max(-1), -1, axis)


def binary_erosion1d(x: np.ndarray, size: int) -> np.ndarray:
    """1-D boolean erosion by `size` ones, outside the array false (scipy.ndimage.binary_erosion's defaults)."""
    return _windows(np.asarray(x, dtype=bool), size, size // 2, -1, "constant", False).all(-1)


def binary_dilation1d(x: np.ndarray, size: int) -> np.ndarray:
    """1-D boolean dilation by `size` ones (scipy.ndimage.binary_dilation's defaults: an even window leans left)."""
    return _windows(np.asarray(x, dtype=bool), size, (size - 1) // 2, -1, "constant", False).any(-1)


def binary_closing1d(x: np.ndarray, size: int) -> np.ndarray:
    """Gaps shorter than `size` filled: dilation then erosion, as scipy.ndimage.binary_closing."""
    return binary_erosion1d(binary_dilation1d(x, size), size)


def binary_opening1d(x: np.ndarray, size: int) -> np.ndarray:
    """Runs shorter than `size` removed: erosion then dilation, as scipy.ndimage.binary_opening."""
    return binary_dilation1d(binary_erosion1d(x, size), size)
