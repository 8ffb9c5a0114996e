"""Fit noise_model.json: MediaPipe's errors on rendered Bandai-Namco clips, and measure them on held-out clips.

    python -m tools.noise_fit [--workers 2]

Fits on the train split (camera 0 of each clip's prepared cameras), then measures detection rate,
PCK per camera bucket and the projected-vs-real feature gap on the val+test clips (both cameras),
and writes everything (model + measurements) to lavimo_core/video/noise_model.json. Rendered
tracks are cached, so a second run, or preparing the dataset afterwards, reuses them.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np

from lavimo_core.synthesis.noise import MODEL_PATH, SIZE_EDGES, YAW_BINS, NoiseModel, mid_hip, size_bin, yaw_bin
from lavimo_core.video.landmarks import NUM_LANDMARKS
from lavimo_core.video.normalize import image_scale, torso_length
from tools.pose_accuracy import Pair, feature_gap, measure_pair, summary, summary_table

MIN_COUNT = 30          # samples below which a cell borrows the statistics of the pooled views


def _logit(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 1e-4, 1 - 1e-4)
    return np.log(v / (1 - v))


def _cell_fit(y: np.ndarray, yb: np.ndarray, occ: np.ndarray, x: np.ndarray | None = None):
    """Per [yaw bin, occluded, landmark] and axis, fit y ~ a + b x (b = 0 without x): a, b and the residual std.

    y, x: (N, 33, D). Cells with fewer than MIN_COUNT samples borrow the fit of the pooled views.
    """
    d = y.shape[-1]
    a = np.zeros((YAW_BINS, 2, NUM_LANDMARKS, d))
    b, sd = np.zeros_like(a), np.zeros_like(a)

    def one(m, l):
        yy = y[m, l]
        if x is None:
            return yy.mean(0), np.zeros(d), yy.std(0)
        xx = x[m, l]
        xc, yc = xx - xx.mean(0), yy - yy.mean(0)
        slope = np.clip((xc * yc).sum(0) / np.maximum((xc * xc).sum(0), 1e-9), 0.0, 1.5)
        return yy.mean(0) - slope * xx.mean(0), slope, (yc - slope * xc).std(0)

    for l in range(NUM_LANDMARKS):
        o_l, y_l = occ[:, l], yb[:, l]
        pooled_all = one(np.ones(len(y), bool), l)
        for o in (0, 1):
            m_o = o_l == o
            pooled = one(m_o, l) if m_o.sum() >= MIN_COUNT else pooled_all
            for k in range(YAW_BINS):
                m = m_o & (y_l == k)
                a[k, o, l], b[k, o, l], sd[k, o, l] = one(m, l) if m.sum() >= MIN_COUNT else pooled
    return a, b, sd


def _lag1(resid: list[np.ndarray]) -> float:
    """Pooled lag-1 autocorrelation of residual sequences (T, ...) (NaN rows = undetected frames)."""
    num = den = 0.0
    for r in resid:
        a, b = r[:-1], r[1:]
        ok = ~(np.isnan(a) | np.isnan(b))
        num += float((a[ok] * b[ok]).sum())
        den += float((a[ok] ** 2).sum())
    return float(np.clip(num / max(den, 1e-12), 0.0, 0.99))


def fit(pairs: list[Pair], tracker_version: str) -> NoiseModel:
    """Fit the noise model to (MediaPipe track, exact track) pairs."""
    W, G, I, V, YB, OC = [], [], [], [], [], []
    seqs, scale_err = [], []
    for p in pairs:
        det = p.real.present
        if det.sum() < 2:
            continue
        rw = p.real.world.astype(np.float64)
        gw = p.truth.world.astype(np.float64)
        rw = rw - mid_hip(rw)[:, None]
        gw = gw - mid_hip(gw)[:, None]
        l_real, l_true = torso_length(rw[det]), torso_length(gw)
        rn, gn = rw / l_real, gw / l_true                                 # torso units, camera axes
        ei = (p.real.image - p.truth.image) / p.torso_px[:, None, None]
        lv = _logit(p.real.visibility)
        yb = np.repeat(yaw_bin(p.yaw)[:, None], NUM_LANDMARKS, 1)
        W.append(rn[det]), G.append(gn[det]), I.append(ei[det]), V.append(lv[det][..., None])
        YB.append(yb[det]), OC.append(p.occluded[det])
        seqs.append((rn, gn, ei, lv, yb, p.occluded.astype(int), det))
        # Apparent size in pixels per torso length, as the translation feature reads it.
        e = np.log(image_scale(p.real) * l_real / (image_scale(p.truth) * l_true))
        e[~det] = np.nan
        scale_err.append(e)
    W, G, I, V = np.concatenate(W), np.concatenate(G), np.concatenate(I), np.concatenate(V)
    YB, OC = np.concatenate(YB), np.concatenate(OC).astype(int)
    # World landmarks: MediaPipe's pose is a shrunk, offset version of the true one plus noise
    # (regression to its mean pose), so fit real ~ a + b * true per cell rather than true + error.
    wa, wb, ws = _cell_fit(W, YB, OC, G)
    ia, _, is_ = _cell_fit(I, YB, OC)
    va, _, vs = _cell_fit(V, YB, OC)

    def resid(kind):
        out = []
        lm = np.arange(NUM_LANDMARKS)[None]
        for rn, gn, ei, lv, yb, occ, det in seqs:
            c = (yb, occ, lm)
            if kind == "w":
                r = (rn - wa[c] - wb[c] * gn) / (ws[c] + 1e-6)
            elif kind == "i":
                r = (ei - ia[c]) / (is_[c] + 1e-6)
            else:
                r = (lv[..., None] - va[c]) / (vs[c] + 1e-6)
            r[~det] = np.nan
            out.append(r)
        return out

    flat = np.concatenate(scale_err)
    flat = flat[np.isfinite(flat)]
    scale_mean, scale_std = float(flat.mean()), float(flat.std())
    rho_scale = _lag1([e - scale_mean for e in scale_err])

    # Missed detections: a two-state Markov chain per person size (Laplace-smoothed counts).
    start, hit, miss = np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 2))   # [size, (not missed, missed)]
    for p in pairs:
        sb = size_bin(p.torso_px / p.real.size[1])
        missed = ~p.real.present
        start[sb[0], int(missed[0])] += 1
        for t in range(1, len(missed)):
            (miss if missed[t - 1] else hit)[sb[t], int(missed[t])] += 1
    frac = lambda c: c[:, 1] / c.sum(1)  # noqa: E731 - tiny local helper
    return NoiseModel(
        tracker_version=tracker_version, world_offset=wa, world_slope=wb, world_std=ws, image_mean=ia,
        image_std=is_, vis_mean=va[..., 0], vis_std=vs[..., 0], rho_world=_lag1(resid("w")), rho_image=_lag1(resid("i")),
        rho_vis=_lag1(resid("v")), scale_mean=scale_mean, scale_std=scale_std, rho_scale=rho_scale,
        miss_start=frac(start), miss_after_hit=frac(hit), miss_after_miss=frac(miss),
        meta={"frames": int(len(W)), "clips": len(pairs), "size_edges_torso_over_height": list(SIZE_EDGES)})


def main(argv: list[str] | None = None) -> int:
    """Fit on the train split, measure on val+test, write noise_model.json."""
    ap = argparse.ArgumentParser(prog="python -m tools.noise_fit", description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="bandai-namco-1")
    ap.add_argument("--workers", type=int, default=1, help="processes rendering and running MediaPipe")
    ap.add_argument("--limit", type=int, default=0, help="use only this many clips per side (quick runs)")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args(argv)

    from lavimo_core.data import load_dataset
    from lavimo_core.synthesis.prepare import dataset_cameras, prepare_rendered_features
    from lavimo_core.video.features import default_featurizer

    ds = load_dataset(args.dataset)
    fit_clips = ds.split("train")
    eval_clips = ds.split("val") + ds.split("test")
    if args.limit:
        fit_clips, eval_clips = fit_clips[: args.limit], eval_clips[: args.limit]
    print(f"fitting on {len(fit_clips)} train clips (1 camera each), measuring on {len(eval_clips)} "
          "val+test clips (2 cameras each)", flush=True)
    # Render + MediaPipe everything first (in parallel, cached); measuring then reads the cache.
    prepare_rendered_features(fit_clips, 1, workers=args.workers)
    prepare_rendered_features(eval_clips, 2, workers=args.workers)
    featurizer = default_featurizer()
    fit_pairs = [measure_pair(m, dataset_cameras(m, 1)[0], featurizer) for m in fit_clips]
    eval_pairs = [measure_pair(m, c, featurizer) for m in eval_clips for c in dataset_cameras(m, 2)]

    model = fit(fit_pairs, featurizer.tracker_version)
    stats = summary(eval_pairs)
    gap = feature_gap(eval_pairs, model, np.random.default_rng(0))
    model.meta.update({
        "command": "python -m tools.noise_fit" + (f" --limit {args.limit}" if args.limit else ""),
        "dataset": args.dataset, "fitted": datetime.date.today().isoformat(),
        "fit_clips": len(fit_clips), "eval_clips": len(eval_clips),
        "held_out_detection_pck": {k: {kk: round(float(vv), 4) for kk, vv in v.items()} for k, v in stats.items()},
        "held_out_feature_gap": gap,
        "fit_set_detection_pck": {k: round(float(v["pck"]), 4) for k, v in summary(fit_pairs).items()},
    })
    model.save(args.out)
    print(summary_table(stats))
    print("feature gap:", gap)
    print(f"rho world/image/vis/scale: {model.rho_world:.3f} {model.rho_image:.3f} {model.rho_vis:.3f} "
          f"{model.rho_scale:.3f}; log scale error {model.scale_mean:+.3f} +- {model.scale_std:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
