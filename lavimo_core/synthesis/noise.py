"""MediaPipe's errors on rendered motions, as a small statistical model applied to projected landmarks.

Fitted by `python -m tools.noise_fit` (see that module) and stored in noise_model.json
beside this file. Per landmark, per view (8 bins of the camera's direction seen from the body) and
per occlusion (hidden behind another body part in the render or not):
  - world landmarks in torso lengths per camera axis: MediaPipe's = offset + slope x true + noise
    (its poses regress towards an average pose, so a plain additive error overstates the spread);
  - image-landmark error, mean and std per image axis, in torso lengths;
  - visibility, mean and std of its logit;
plus lag-1 autocorrelations (MediaPipe's errors persist over frames), the error of the body's
apparent size (log of the image/world scale that the translation feature reads, see normalize.py),
and a two-state Markov chain of missed detections per person size (torso length / frame height).

The size error is imposed separately because MediaPipe's image and world landmarks err together
(both come from one network), so the scale between them varies far less than independent noise
on each would make it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..video.landmarks import LANDMARK_INDEX as L
from ..video.normalize import image_scale, torso_length
from ..video.track import PoseTrack

MODEL_PATH = Path(__file__).with_name("noise_model.json")
YAW_BINS = 8
SIZE_EDGES = (0.08, 0.12)           # torso length / frame height splitting small, medium, large people


def yaw_bin(yaw_deg: np.ndarray) -> np.ndarray:
    """Bin index (0..7) of a relative camera yaw in degrees (0 = front, bins centred on multiples of 45)."""
    return (np.floor((np.asarray(yaw_deg) + 22.5) / 45.0).astype(int)) % YAW_BINS


def size_bin(torso_frac: np.ndarray) -> np.ndarray:
    """Bin index (0..2) of torso length as a fraction of the frame height."""
    return np.searchsorted(np.asarray(SIZE_EDGES), np.asarray(torso_frac))


def mid_hip(x: np.ndarray) -> np.ndarray:
    """Midpoint of the two hip landmarks, (..., D)."""
    return (x[..., L["left_hip"], :] + x[..., L["right_hip"], :]) / 2


def _ar1(rng: np.random.Generator, shape: tuple, rho: float) -> np.ndarray:
    """Unit-variance Gaussian noise (T, ...) correlated over the first axis with lag-1 autocorrelation rho."""
    eps = rng.standard_normal(shape)
    out = np.empty(shape)
    out[0] = eps[0]
    k = np.sqrt(max(1.0 - rho * rho, 0.0))
    for t in range(1, shape[0]):
        out[t] = rho * out[t - 1] + k * eps[t]
    return out


@dataclass
class NoiseModel:
    """See the module docstring; arrays are indexed [yaw_bin, occluded, landmark, axis]."""

    tracker_version: str        # the MediaPipe set-up whose errors these are
    world_offset: np.ndarray    # (8, 2, 33, 3)
    world_slope: np.ndarray     # (8, 2, 33, 3)
    world_std: np.ndarray       # (8, 2, 33, 3) residual
    image_mean: np.ndarray      # (8, 2, 33, 2)
    image_std: np.ndarray       # (8, 2, 33, 2)
    vis_mean: np.ndarray        # (8, 2, 33) logit
    vis_std: np.ndarray         # (8, 2, 33)
    rho_world: float
    rho_image: float
    rho_vis: float
    scale_mean: float           # log(MediaPipe scale / true scale)
    scale_std: float
    rho_scale: float
    miss_start: np.ndarray      # (3,) P(first frame missed) per size bin
    miss_after_hit: np.ndarray  # (3,) P(miss | previous hit)
    miss_after_miss: np.ndarray  # (3,) P(miss | previous miss)
    meta: dict = field(default_factory=dict)

    _SCALARS = ("rho_world", "rho_image", "rho_vis", "scale_mean", "scale_std", "rho_scale")
    _ARRAYS = ("world_offset", "world_slope", "world_std", "image_mean", "image_std", "vis_mean", "vis_std",
               "miss_start", "miss_after_hit", "miss_after_miss")

    def to_dict(self) -> dict:
        """JSON-able form (rounded: this is a statistical model, not a measurement log)."""
        d = {k: np.round(getattr(self, k), 4).tolist() for k in self._ARRAYS}
        d.update(tracker_version=self.tracker_version, meta=self.meta,
                 **{k: round(float(getattr(self, k)), 4) for k in self._SCALARS})
        return d

    @staticmethod
    def from_dict(d: dict) -> NoiseModel:
        """Inverse of to_dict."""
        arrays = {k: np.asarray(d[k], np.float64) for k in NoiseModel._ARRAYS}
        scalars = {k: float(d[k]) for k in NoiseModel._SCALARS}
        return NoiseModel(tracker_version=d["tracker_version"], meta=d.get("meta", {}), **arrays, **scalars)

    def save(self, path: Path = MODEL_PATH) -> None:
        """Write the model as JSON (atomically)."""
        d = self.to_dict()
        # One line per array keeps the file small; the measurements in meta stay readable.
        body = ",\n".join(f"{json.dumps(k)}: {json.dumps(v, indent=1 if k == 'meta' else None)}" for k, v in d.items())
        write_atomic(path, "{\n" + body + "\n}\n")

    @staticmethod
    def load(path: Path = MODEL_PATH) -> NoiseModel:
        """Read a model written by `save` (the default one ships beside this module)."""
        global _LOADED
        if path == MODEL_PATH and _LOADED is not None:
            return _LOADED
        model = NoiseModel.from_dict(json.loads(Path(path).read_text()))
        if path == MODEL_PATH:
            _LOADED = model
        return model

    def apply(self, truth: PoseTrack, yaw: np.ndarray, occluded: np.ndarray, torso_px: np.ndarray,
              rng: np.random.Generator, noise: bool = True) -> PoseTrack:
        """MediaPipe-like track from an exact one. Without noise: only the mean errors and visibilities."""
        T = len(truth)
        yb = yaw_bin(yaw)
        occ = occluded.astype(int)
        lm = np.arange(truth.world.shape[1])
        sel = (yb[:, None], occ, lm[None, :])
        world = truth.world.astype(np.float64)
        true_torso = torso_length(world) if T else 1.0
        w_n = self.world_offset[sel] + self.world_slope[sel] * (world / true_torso)
        i_err = self.image_mean[sel]
        v_logit = self.vis_mean[sel]
        present = np.ones(T, bool)
        if noise and T:
            w_n = w_n + self.world_std[sel] * _ar1(rng, world.shape, self.rho_world)
            i_err = i_err + self.image_std[sel] * _ar1(rng, truth.image.shape, self.rho_image)
            v_logit = v_logit + self.vis_std[sel] * _ar1(rng, truth.visibility.shape, self.rho_vis)
            sb = size_bin(torso_px / truth.size[1])
            u = rng.random(T)
            missed = u[0] < self.miss_start[sb[0]]
            for t in range(T):
                if t:
                    p = self.miss_after_miss[sb[t]] if missed else self.miss_after_hit[sb[t]]
                    missed = u[t] < p
                present[t] = not missed
        world = w_n * true_torso
        world = world - mid_hip(world)[:, None]
        image = truth.image + torso_px[:, None, None] * i_err
        vis = 1.0 / (1.0 + np.exp(-v_logit))
        if T:
            # Give the body the apparent size (pixels per torso length) MediaPipe would: rescale the
            # image landmarks about the hips to the true size times the measured error.
            log_err = np.full(T, self.scale_mean)
            if noise:
                log_err = log_err + self.scale_std * _ar1(rng, (T,), self.rho_scale)
            noisy = PoseTrack(image.astype(np.float32), world.astype(np.float32), vis.astype(np.float32),
                              present, truth.size, truth.fps)
            now = image_scale(noisy) * torso_length(world)
            target = image_scale(truth) * true_torso * np.exp(log_err)
            hips = mid_hip(image)[:, None]
            image = hips + (image - hips) * (target / now)[:, None, None]
        z = ~present
        world[z], image[z], vis[z] = 0, 0, 0
        return PoseTrack(image.astype(np.float32), world.astype(np.float32), vis.astype(np.float32), present,
                         truth.size, truth.fps)


_LOADED: NoiseModel | None = None
