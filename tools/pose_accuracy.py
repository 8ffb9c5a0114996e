"""How well MediaPipe sees rendered motions: detection rate and PCK against the projected joints, per camera bucket."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lavimo_core.motion.motion import Motion
from lavimo_core.motion.resample import resample_positions
from lavimo_core.motion.skeleton import JOINT_INDEX as J
from lavimo_core.synthesis.body import random_look
from lavimo_core.synthesis.camera import Camera, PlacedCamera, place_camera
from lavimo_core.synthesis.noise import NoiseModel
from lavimo_core.synthesis.project import (
    occluded_landmarks,
    project_track,
    relative_yaw,
    torso_diameter_pixels,
    torso_pixels,
)
from lavimo_core.synthesis.rendered import rendered_track
from lavimo_core.video.features import VIDEO_FPS
from lavimo_core.video.landmarks import JOINT_LANDMARKS
from lavimo_core.video.pose import MediaPipePoseFeaturizer
from lavimo_core.video.track import PoseTrack

PCK_THRESHOLD = 0.1       # fraction of torso size
NEAR_FAR_M = 4.5          # final camera distance splitting near from far
LOW_HIGH_DEG = 15.0       # elevation splitting low from high


@dataclass
class Pair:
    """MediaPipe's track of a render beside the exact projected landmarks of the same motion and camera."""

    name: str
    camera: Camera
    placed: PlacedCamera
    real: PoseTrack
    truth: PoseTrack
    yaw: np.ndarray        # (T,) camera direction seen from the body, degrees
    torso_px: np.ndarray   # (T,) torso length in pixels at the body's depth
    person_distance: float # median camera-to-pelvis distance, metres
    occluded: np.ndarray   # (T, 33) bool: landmark hidden behind another body part in the render
    diameter_px: np.ndarray  # (T,) torso diameter (shoulder to opposite hip) in pixels, for the literature's PCK


def buckets(camera: Camera, person_distance: float) -> dict[str, str]:
    """The camera's bucket on each axis: azimuth front/side/back (at frame 0), elevation low/high,
    distance to the person near/far, static or panning."""
    az = abs((camera.azimuth + 180) % 360 - 180)
    return {"azimuth": "front" if az < 45 else ("side" if az < 135 else "back"),
            "elevation": "low" if camera.elevation < LOW_HIGH_DEG else "high",
            "distance": "near" if person_distance < NEAR_FAR_M else "far",
            "camera": "pan" if camera.pan else "static"}


def measure_pair(motion: Motion, camera: Camera, featurizer: MediaPipePoseFeaturizer | None = None,
                 cache: bool = True) -> Pair:
    """Render `motion` from `camera`, run MediaPipe (cached), and project the truth."""
    placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
    joints = resample_positions(motion.joints, motion.fps, VIDEO_FPS)
    real = rendered_track(motion, camera, featurizer=featurizer, cache=cache)
    truth = project_track(joints, placed, VIDEO_FPS)
    dist = float(np.median(np.linalg.norm(joints[:, J["pelvis"]] - placed.position, axis=-1)))
    look = random_look(np.random.default_rng(camera.seed))
    return Pair(motion.name, camera, placed, real, truth, relative_yaw(joints, placed), torso_pixels(joints, placed),
                dist, occluded_landmarks(joints, placed, look), torso_diameter_pixels(joints, placed))


def pck_hits(pair: Pair, threshold: float = PCK_THRESHOLD, size_px: np.ndarray | None = None) -> np.ndarray:
    """(T, 12) bool: joint landmark within threshold x torso length (or `size_px`) of the truth (False when not detected)."""
    li = [a for a, _ in JOINT_LANDMARKS]
    err = np.linalg.norm(pair.real.image[:, li] - pair.truth.image[:, li], axis=-1)
    size = pair.torso_px if size_px is None else size_px
    return (err < threshold * size[:, None]) & pair.real.present[:, None]


def summary(pairs: list[Pair]) -> dict:
    """Detection rate and PCK overall and per bucket: PCK over detected frames (all 12 joints, and
    only joints not hidden behind the body), and over all frames (a missed frame counts as misses).
    For comparison with published figures also PCK@0.1 of the torso diameter and PCK@0.2 of the torso length."""
    li = [a for a, _ in JOINT_LANDMARKS]
    rows: dict[tuple[str, str], np.ndarray] = {}
    for p in pairs:
        hits = pck_hits(p)
        det = p.real.present
        seen = ~p.occluded[:, li] & det[:, None]
        counts = np.array([len(det), det.sum(), hits[det].sum(), det.sum() * hits.shape[1],
                           hits[seen].sum(), seen.sum(), pck_hits(p, size_px=p.diameter_px)[det].sum(),
                           pck_hits(p, 2 * PCK_THRESHOLD)[det].sum()], np.int64)
        for axis, value in [("all", "all"), *buckets(p.camera, p.person_distance).items()]:
            rows[(axis, value)] = rows.get((axis, value), 0) + counts
    out = {}
    for (axis, value), (frames, detected, hit, total, hit_seen, seen, hit_diam, hit_02) in rows.items():
        out[f"{axis}:{value}"] = {"frames": int(frames), "detection": detected / max(frames, 1),
                                  "pck": hit / max(total, 1), "pck_visible": hit_seen / max(seen, 1),
                                  "pck_all_frames": hit / max(frames * len(li), 1),
                                  "pck_diameter": hit_diam / max(total, 1), "pck_02": hit_02 / max(total, 1)}
    return out


def pck_interval(pairs: list[Pair], draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% interval of overall PCK@0.1 when clips are resampled with replacement (a clip's cameras stay together).

    Which views a camera draw happens to contain moves PCK by a few hundredths (a front view scores
    ~0.1 higher than a side view), so a single figure near a target needs this spread beside it.
    """
    per_clip: dict[str, np.ndarray] = {}
    for p in pairs:
        hits = pck_hits(p)[p.real.present]
        per_clip[p.name] = per_clip.get(p.name, 0) + np.array([hits.sum(), hits.size], np.int64)
    counts = np.stack(list(per_clip.values()))
    pick = np.random.default_rng(seed).integers(0, len(counts), (draws, len(counts)))
    drawn = counts[pick].sum(1)
    pck = drawn[:, 0] / np.maximum(drawn[:, 1], 1)
    return float(np.percentile(pck, 2.5)), float(np.percentile(pck, 97.5))


def summary_table(stats: dict) -> str:
    """The summary as a markdown table."""
    order = ["all:all", "azimuth:front", "azimuth:side", "azimuth:back", "elevation:low", "elevation:high",
             "distance:near", "distance:far", "camera:static", "camera:pan"]
    lines = ["| camera bucket | frames | detection rate | PCK@0.1 | PCK@0.1 unoccluded joints | PCK@0.1 all frames "
             "| PCK@0.1 of torso diameter | PCK@0.2 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k in order:
        if k in stats:
            s = stats[k]
            lines.append(f"| {k.replace(':', ' ')} | {int(s['frames'])} | {s['detection']:.3f} | {s['pck']:.3f} | "
                         f"{s['pck_visible']:.3f} | {s['pck_all_frames']:.3f} | {s['pck_diameter']:.3f} | {s['pck_02']:.3f} |")
    return "\n".join(lines)


def _groups() -> dict[str, slice]:
    from lavimo_core.video.normalize import NUM_LANDMARKS

    n3 = NUM_LANDMARKS * 3
    return {"pose": slice(0, n3), "translation": slice(n3, n3 + 3), "visibility": slice(n3 + 3, None)}


def feature_gap(pairs: list[Pair], model: NoiseModel, rng: np.random.Generator) -> dict:
    """How far projected features are from real (render -> MediaPipe) ones of the same motion and camera.

    Mean absolute difference per feature group on frames detected in both, for projected landmarks
    with the noise model, with its mean errors only, and exact; beside it the same distance to the
    real features of *another* clip (the scale of "unrelated"). Also per-dimension distribution
    agreement (|mean difference| / real std, std ratio) and how often a real clip's nearest
    projected clip is its own.
    """
    from lavimo_core.video.normalize import track_to_features

    groups = _groups()
    real, noisy, clean, exact = [], [], [], []
    for p in pairs:
        real.append((track_to_features(p.real), p.real.present))
        nz = model.apply(p.truth, p.yaw, p.occluded, p.torso_px, rng, noise=True)
        noisy.append((track_to_features(nz), nz.present))
        cl = model.apply(p.truth, p.yaw, p.occluded, p.torso_px, rng, noise=False)
        clean.append((track_to_features(cl), cl.present))
        exact.append((track_to_features(p.truth), p.truth.present))

    def dist(a, b) -> np.ndarray | None:
        n = min(len(a[0]), len(b[0]))
        both = a[1][:n] & b[1][:n]
        if not both.any():
            return None
        d = np.abs(a[0][:n][both] - b[0][:n][both])
        return np.array([d[:, g].mean() for g in groups.values()])

    out: dict = {}
    for name, other in [("noise_model", noisy), ("mean_errors_only", clean), ("exact", exact)]:
        ds = [d for d in (dist(r, o) for r, o in zip(real, other)) if d is not None]
        out[f"real_vs_{name}"] = dict(zip(groups, np.mean(ds, 0).round(4).tolist()))
    # Unrelated baseline: each real clip against the noisy projection of the next clip in the list.
    ds = [d for d in (dist(real[i], noisy[(i + 1) % len(real)]) for i in range(len(real))) if d is not None]
    out["real_vs_other_clip"] = dict(zip(groups, np.mean(ds, 0).round(4).tolist()))

    all_real = np.concatenate([f[m] for f, m in real])
    all_noisy = np.concatenate([f[m] for f, m in noisy])
    sd = all_real.std(0) + 1e-6
    out["distribution"] = {
        g: {"mean_abs_mean_diff_over_std": float(np.mean(np.abs(all_real[:, s].mean(0) - all_noisy[:, s].mean(0)) / sd[s])),
            "median_std_ratio": float(np.median(all_noisy[:, s].std(0) / sd[s]))}
        for g, s in groups.items()}
    # Matching: does each real clip find its own projection nearest (frame-aligned mean |diff|)?
    hits = 0
    for i, r in enumerate(real):
        scores = []
        for o in noisy:
            d = dist(r, o)
            scores.append(np.inf if d is None else float(d[0]))
        hits += int(np.argmin(scores) == i)
    out["real_finds_own_projection_top1"] = hits / len(real)
    out["pairs"] = len(pairs)
    return out
