"""Moments inside long motions: windows at the model's trained lengths, merged where they agree, refined.

A long take embedded as one vector is the average of everything in it, so "a person bows" cannot find the
bow in a take that walks, waves and bows. Instead a long motion is cut into windows at the lengths the
model saw in training (its crop lengths: shortest, middle, longest), at strides of a quarter of each
length, and every window is embedded. A query then scores windows, not takes:

1. `window_spans`: the windows of a motion, [start, end) in frames.
2. `moments`: per motion, the best window, grown by the windows overlapping it that score within a margin
   of it (neighbours that agree, so the moment covers the whole action, not one window of it); windows
   overlapping a kept moment are spent; the next best left starts the next moment.
3. `refine`: boundary search by scoring spans: move the start and the end by a step in and out, keep the
   best-scoring span, halve the step, repeat. Needs a scorer (the model embedding a span of the motion);
   it runs on the few top hits only, so the store scan stays a matrix product.

Everything here is pure numpy on frame numbers (20 fps); the store and the evaluation supply scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import LavimoError

STRIDE_FRACTION = 0.25  # windows at each length start every quarter-length (75 % overlap)
# A neighbouring window agrees with the best one when it scores within this fraction of (best - the motion's
# median window score): relative, because cosine spreads differ between models. Chosen on spliced takes
# of seed 1 (0.1-0.2 best; 0.6 loses a tenth of R@1), reported on seed 0 (bench/bench_moments.py).
MERGE_FRACTION = 0.15
# A motion is searched inside when it is longer than this many of the longest windows: a clip of about one
# window is already what the model saw in training (a 6.5 s walk stays a hit as a whole, as before).
LONG_FACTOR = 2.0


class MomentError(LavimoError, ValueError):
    """A motion that moment search cannot cut into windows (shorter than one window) or bad window lengths."""


@dataclass(frozen=True)
class Moment:
    """A scored time range of one motion, in frames at 20 fps: [start, end)."""

    row: int  # which motion (the caller's index)
    start: int
    end: int
    score: float
    window: int = -1  # index of the best window inside it (its embedding stands for the moment)


def window_lengths(crop_min_frames: int, crop_max_frames: int) -> tuple[int, ...]:
    """The window lengths of a model trained on crops of crop_min..crop_max frames: shortest, middle, longest."""
    lo, hi = int(crop_min_frames), int(crop_max_frames)
    if not 2 <= lo <= hi:
        raise MomentError(f"crop lengths must satisfy 2 <= min <= max, got {lo}..{hi}")
    return tuple(sorted({lo, (lo + hi) // 2, hi}))


def model_window_lengths(embedder) -> tuple[int, ...] | None:
    """The window lengths of `embedder`'s model, from its checkpoint's training crops (None: not a checkpoint)."""
    from pathlib import Path

    folder = getattr(embedder, "folder", None)
    if folder is None or not (Path(folder) / "config.json").is_file():
        return None
    from ..model.config import LavimoConfig
    cfg = LavimoConfig.load(Path(folder) / "config.json")
    return window_lengths(cfg.train.crop_min_frames, cfg.train.crop_max_frames)


def long_motion_spans(num_frames: int, lengths: tuple[int, ...] | None) -> np.ndarray:
    """Windows of a motion worth searching inside (longer than LONG_FACTOR longest windows); else none: it is
    searched whole, as before."""
    if not lengths or num_frames <= LONG_FACTOR * max(lengths):
        return np.zeros((0, 2), dtype=np.int64)
    return window_spans(num_frames, lengths)


def window_spans(num_frames: int, lengths: tuple[int, ...], stride_fraction: float = STRIDE_FRACTION) -> np.ndarray:
    """(W, 2) int [start, end) windows of a motion of `num_frames`; the last of each length ends at the end."""
    if num_frames < min(lengths):
        raise MomentError(f"a motion of {num_frames} frames ({num_frames / 20:.2f} s) is shorter than one window "
                          f"({min(lengths)} frames, {min(lengths) / 20:.2f} s); search it as a whole clip")
    spans = []
    for length in lengths:
        if length > num_frames:
            continue
        stride = max(1, int(round(length * stride_fraction)))
        starts = sorted(set(range(0, num_frames - length + 1, stride)) | {num_frames - length})
        spans += [(s, s + length) for s in starts]
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2)


def moments(spans: np.ndarray, scores: np.ndarray, row: int = 0, fraction: float = MERGE_FRACTION,
            limit: int = 3) -> list[Moment]:
    """Up to `limit` non-overlapping moments of one motion from its windows' spans (W, 2) and scores (W,)."""
    spans, scores = np.asarray(spans), np.asarray(scores, dtype=np.float64)
    margin = fraction * float(scores.max() - np.median(scores)) if len(scores) else 0.0
    alive = np.ones(len(spans), dtype=bool)
    out: list[Moment] = []
    while alive.any() and len(out) < limit:
        best = int(np.argmax(np.where(alive, scores, -np.inf)))
        start, end = int(spans[best, 0]), int(spans[best, 1])
        agree = alive & (scores >= scores[best] - margin)
        grown = True
        while grown:  # grow by agreeing windows that overlap what is kept so far
            touch = agree & (spans[:, 0] < end) & (spans[:, 1] > start)
            new_start, new_end = int(spans[touch, 0].min()), int(spans[touch, 1].max())
            grown = (new_start, new_end) != (start, end)
            start, end = new_start, new_end
        out.append(Moment(row, start, end, float(scores[best]), best))
        alive &= ~((spans[:, 0] < end) & (spans[:, 1] > start))
    return out


def best_per_motion(scores: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(M,) best window score of each motion; motion m owns the rows offsets[m]:offsets[m + 1] (none: -inf)."""
    scores = np.asarray(scores)
    out = np.full(len(offsets) - 1, -np.inf, dtype=np.float32)
    has = offsets[1:] > offsets[:-1]
    if has.any():
        out[has] = np.maximum.reduceat(scores, offsets[:-1][has])
    return out


def motion_moment(scores: np.ndarray, offsets: np.ndarray, spans: np.ndarray, motion: int) -> Moment:
    """The best moment of motion `motion` from the window scores of all motions (its window index is global)."""
    a, b = int(offsets[motion]), int(offsets[motion + 1])
    m = moments(spans[a:b], scores[a:b], motion, limit=1)[0]
    return Moment(motion, m.start, m.end, m.score, a + m.window)


def refine(moment: Moment, num_frames: int, score_spans: Callable[[np.ndarray], np.ndarray],
           min_frames: int, rounds: int = 3) -> Moment:
    """Move the moment's start and end in and out by a step (a quarter of its length, halved each round),
    keeping the best-scoring span; `score_spans((N, 2) spans) -> (N,) scores`."""
    start, end, score = moment.start, moment.end, moment.score
    step = max(1, (end - start) // 4)
    for _ in range(rounds):
        cand = {(s, e) for ds in (-step, 0, step) for de in (-step, 0, step)
                for s, e in [(max(0, start + ds), min(num_frames, end + de))] if e - s >= min_frames}
        cand.discard((start, end))
        if cand:
            spans = np.asarray(sorted(cand), dtype=np.int64)
            s = np.asarray(score_spans(spans), dtype=np.float64)
            i = int(np.argmax(s))
            if s[i] > score:
                (start, end), score = spans[i], float(s[i])
        step = max(1, step // 2)
    return Moment(moment.row, int(start), int(end), score, moment.window)


def temporal_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two time ranges."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0
