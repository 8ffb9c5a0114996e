"""Moment retrieval on spliced long takes: R@1 at temporal IoU >= 0.5 and mean IoU of the top hit.

Two tasks, each with today's whole-take search as the baseline:
- "within take": the query of one segment against its own take; the top moment must overlap that
  segment (IoU >= 0.5). Whole-take search returns the whole take, so its IoU is segment / take length.
- "corpus": the query against every take; the top hit must be a take that holds the queried action, and
  its range must overlap that action's segment there (IoU >= 0.5).
Methods: "whole" (today), "windows" (best window merged with agreeing neighbours, moments.moments) and
"refined" (that moment's boundaries refined by scoring spans, moments.refine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..store.moments import moments, refine, temporal_iou, window_lengths, window_spans
from .spliced import LongTake

if TYPE_CHECKING:
    from ..model.embedder import Embedder

FPS = 20.0
METHODS = ("whole", "windows", "refined")


def model_lengths(embedder: Embedder) -> tuple[int, ...]:
    """The window lengths of `embedder`'s model (its training crop lengths)."""
    from ..model.config import LavimoConfig
    cfg = LavimoConfig.load(embedder.folder / "config.json")
    return window_lengths(cfg.train.crop_min_frames, cfg.train.crop_max_frames)


def span_scorer(embedder: Embedder, features: np.ndarray, query: np.ndarray):
    """A function (N, 2) frame spans -> (N,) cosines of those spans of `features` with `query`."""
    def score(spans: np.ndarray) -> np.ndarray:
        return embedder.embed_motion_features([features[s:max(e - 1, s + 1)] for s, e in spans]) @ query
    return score


def moment_recall(ious: list[float]) -> dict[str, float]:
    """{"R@1 IoU>=0.5": fraction of top hits with IoU >= 0.5, "mIoU": mean IoU, "n": queries}."""
    a = np.asarray(ious, dtype=np.float64)
    return {"R@1 IoU>=0.5": float((a >= 0.5).mean()) if len(a) else 0.0, "mIoU": float(a.mean()) if len(a) else 0.0,
            "n": int(len(a))}


def evaluate_moments(embedder: Embedder, takes: list[LongTake], min_action_s: float = 2.0) -> dict:
    """Both tasks x METHODS on `takes` (segments shorter than `min_action_s` are not queried)."""
    lengths = model_lengths(embedder)
    spans = [window_spans(t.motion.num_frames, lengths) for t in takes]
    feats = [np.asarray(t.motion.features, dtype=np.float32) for t in takes]
    win = [embedder.embed_motion_features([f[s:e - 1] for s, e in sp]) for f, sp in zip(feats, spans, strict=True)]
    whole = embedder.embed_motion_features(feats)
    queries = sorted({g.query for t in takes for g in t.segments})
    qemb = dict(zip(queries, embedder.embed_text(queries), strict=True))
    ious: dict[str, dict[str, list[float]]] = {task: {m: [] for m in METHODS} for task in ("within take", "corpus")}

    def located(ti: int, q: np.ndarray) -> dict[str, tuple[float, float]]:
        n = takes[ti].motion.num_frames
        best = moments(spans[ti], win[ti] @ q, ti, limit=1)[0]
        fine = refine(best, n, span_scorer(embedder, feats[ti], q), min(lengths))
        return {"whole": (0.0, n / FPS), "windows": (best.start / FPS, best.end / FPS),
                "refined": (fine.start / FPS, fine.end / FPS)}

    for ti, take in enumerate(takes):
        for g in take.segments:
            if g.duration < min_action_s:
                continue
            q = qemb[g.query]
            for m, rng in located(ti, q).items():
                ious["within take"][m].append(temporal_iou(rng, (g.start, g.end)))
            # corpus: the take with the best window (windows, refined) or the best whole embedding (whole)
            top_window = int(np.argmax([float((w @ q).max()) for w in win]))
            top_whole = int(np.argmax(whole @ q))
            found = {top_window: located(top_window, q)} | ({top_whole: located(top_whole, q)}
                                                            if top_whole != top_window else {})
            for m in METHODS:
                hit = top_whole if m == "whole" else top_window
                rng = found[hit][m]
                truth = [(s.start, s.end) for s in takes[hit].segments if s.content == g.content]
                ious["corpus"][m].append(max((temporal_iou(rng, t) for t in truth), default=0.0))
    return {task: {m: moment_recall(v) for m, v in by.items()} for task, by in ious.items()}
