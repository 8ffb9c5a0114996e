"""Ranking a store's motions for a (possibly combined) query: hits, their probabilities, and what a score means.

What a score means
------------------
Every embedding (query and motion) is L2-normalised, so `score` is the cosine similarity in [-1, 1] between
the query and the motion in the model's joint space. Cosines are only comparable within one model and one
query kind (text, video, motion), so each hit also carries `probability`: the model's calibrated P(the query
and this motion match), fitted on held-out validation pairs when the model was trained
(`Embedder.calibration.probability(kind, cosine)`; see lavimo_core/model/calibration.py).

"No good match" is a decision about the query's BEST hit, and the threshold is fitted for exactly that:
`calibration.no_match_below[kind]` is the top-1 cosine below which the library more likely lacks than holds
anything like the query, fitted on validation queries' top-1 cosines with their action present vs removed
from the gallery (at it, `calibration.library_probability(kind, top1)` = 1/2). A hit's `is_match` is
`score >= no_match_below`; hits are sorted by score, so the results show "no good match" (the add-on and
the CLI say so instead of presenting the nearest clips as answers) exactly when the best hit is not a match.
A text query worded unlike every caption the model was trained on (`calibration.knows_wording`, see
model/known_wording.py: "a person swims" when no training clip swims) has no match whatever its best hit, and
its library probability is at most P(known wording).
Models trained before this used a pairwise threshold (lower: it flagged few absent actions); their
checkpoints keep it. For a combined query (e.g. text 0.7 + video 0.3) the score is the weighted mean of the
per-kind cosines, the probability the weighted mean of the per-kind probabilities, and the threshold the
weighted mean of the per-kind thresholds. Without a model (a store opened with no embedder) probability is
None and every hit is a match.

Moments: a long motion (over twice the model's longest training crop) also has windows (moments.py). Its
score is its best window's, on the same scale as a whole short clip (every window is as long as the clips the
model was trained on), and its hit carries the moment: that window grown by the neighbours that agree
(`start`, `end` in seconds). Folding still compares whole-motion embeddings. A short clip's range is the
whole clip. Stores without windows (format 1, or built without a checkpoint) rank whole motions as before.

The store (store.py) owns the files and hands search a `Rows` snapshot; scan.py does the raw cosine scan,
filters.py the filters, folding.py the mirror/near-duplicate grouping.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .encode import normalise_rows
from .errors import StoreError
from .filters import Filters, LabelIndex, filter_mask
from .folding import Group, fold
from .moments import best_per_motion, motion_moment
from .records import MotionRecord
from .scan import cosine_scores, top_k

if TYPE_CHECKING:
    from ..model.calibration import Calibration
    from .faiss_index import FaissIndex
    from .format import ModelIdentity

KINDS = ("text", "video", "motion")


@dataclass
class Hit:
    """One search result. See the module docstring for what score, probability and is_match mean."""

    motion_id: str
    name: str
    score: float  # cosine similarity (weighted mean over the parts of a combined query)
    probability: float | None  # calibrated P(match); None when the store was opened without a model
    duration: float  # seconds
    captions: list[str]
    labels: dict
    source: str  # source file path
    folded: list[Hit] = field(default_factory=list)  # mirror images / near-duplicates of this hit
    relation: str = ""  # on a folded hit: "mirror" or "near-duplicate"
    is_match: bool = True  # score >= the model's no-match threshold for this query kind
    start: float = 0.0  # seconds: the matching moment inside the motion (the whole motion for a short clip)
    end: float = 0.0

    @property
    def is_moment(self) -> bool:
        """Whether the hit is a part of a longer motion rather than all of it."""
        return self.start > 1e-6 or self.end < self.duration - 1e-6

    def to_dict(self) -> dict:
        """JSON-ready form (folded hits nested)."""
        d = {k: getattr(self, k) for k in ("motion_id", "name", "score", "probability", "duration", "captions",
                                          "labels", "source", "relation", "is_match", "start", "end")}
        d["folded"] = [h.to_dict() for h in self.folded]
        return d


@dataclass
class QueryPart:
    """One modality of a (possibly combined) query: an embedding, its kind and its weight."""

    embedding: np.ndarray
    kind: str = "text"
    weight: float = 1.0


@dataclass
class Windows:
    """Windows of the long motions: embeddings (W, dim), owner (W,) row, spans (W, 2) frames; grouped by row, in order."""

    emb: np.ndarray
    owner: np.ndarray
    span: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    def keep_rows(self, keep: Sequence[int], old_rows: int) -> Windows:
        """The windows of rows `keep` (old row numbers, in order), owners renumbered to their new rows."""
        new_row = np.full(old_rows, -1, dtype=np.int64)
        new_row[np.asarray(keep, dtype=np.int64)] = np.arange(len(keep))
        alive = new_row[self.owner] >= 0
        return Windows(self.emb[alive], new_row[self.owner[alive]], self.span[alive])

    def then(self, other: Windows, rows_before: int) -> Windows:
        """These windows followed by `other`'s, whose owners count from row `rows_before`."""
        return Windows(np.concatenate([self.emb, other.emb.astype(self.emb.dtype)]),
                       np.concatenate([self.owner, other.owner + rows_before]), np.concatenate([self.span, other.span]))


class Rows:
    """A store's live motions as search sees them: records and embeddings row by row, plus indexes over them.

    Immutable once made: the store swaps in a new one on every change, so a search holds a consistent view.
    """

    def __init__(self, records: list[MotionRecord], segments: list[str], emb: np.ndarray, mirror: np.ndarray,
                 windows: Windows | None = None):
        self.records, self.segments, self.emb, self.mirror = records, segments, emb, mirror
        self.windows = windows if windows is not None and len(windows) else None
        # window rows of motion i: win_offsets[i]:win_offsets[i + 1]
        self.win_offsets = (np.searchsorted(self.windows.owner, np.arange(len(records) + 1))
                            if self.windows is not None else None)
        self.row_of = {r.id: i for i, r in enumerate(records)}
        self.durations = np.array([r.duration for r in records], dtype=np.float32)
        self.sources = [r.source.path.lower() for r in records]  # the source filter is a case-insensitive substring

    def __len__(self) -> int:
        return len(self.records)

    @functools.cached_property
    def labels(self) -> LabelIndex:
        """Label codes for filtering, built on the first labelled search."""
        return LabelIndex([r.labels for r in self.records])


def search(rows: Rows, parts: Sequence[QueryPart], *, model: ModelIdentity, k: int = 10, filters: Filters | None = None,
           fold_results: bool = True, exclude: Iterable[str] = (), calibration: Calibration | None = None,
           index: FaissIndex | None = None, fold_thresholds: tuple[float, float] = (0.99, 0.99)) -> list[Hit]:
    """Top-k hits among `rows` for a weighted combination of query embeddings (e.g. text 0.7 + video 0.3).

    `exclude`: motion ids never returned (the query motion of a "find similar"); with fold_results their mirror
    images and near-duplicates are dropped too. `index`: a faiss index over the same rows, or None for exact search.
    """
    parts = check_parts(parts, model)
    if k < 1:
        raise StoreError(f"k must be at least 1, got {k}")
    weights = _weights(parts)
    q = sum(w * p.embedding for w, p in zip(weights, parts))
    n = len(rows)
    if n == 0:
        return []
    mask = None if filters is None or filters.is_empty() else filter_mask(filters, rows.durations, rows.sources,
                                                                           rows.labels)
    hidden = np.array([rows.row_of[i] for i in exclude if i in rows.row_of], dtype=np.int64)
    if len(hidden):
        mask = np.ones(n, dtype=bool) if mask is None else mask.copy()
        mask[hidden] = False
    window_scores = cosine_scores(rows.windows.emb, q) if rows.windows is not None else None
    ranked = _ranker(rows, q, mask, index if window_scores is None else None, window_scores)  # faiss: whole rows only
    if not fold_results:
        groups = [Group(int(r)) for r in ranked(k)]
    else:
        duplicate_t, mirror_t = fold_thresholds
        m = max(4 * k, k + 32)
        while True:
            candidates = ranked(m)
            groups = fold(candidates, rows.emb, rows.mirror, k, hidden_heads=hidden, duplicate_threshold=duplicate_t,
                          mirror_threshold=mirror_t)
            if len(groups) >= k or len(candidates) < m:
                break
            m *= 4
    return _hits(rows, groups, parts, weights, calibration, window_scores)


def library_probability(rows: Rows, parts: Sequence[QueryPart], motion_id: str, *, model: ModelIdentity,
                        calibration: Calibration | None) -> float | None:
    """P(the library holds a match for the query) judged from its best hit `motion_id`; None when unknown.

    Weighted over the parts like P(match) and the no-match threshold; None without a model, with a checkpoint
    older than the library calibration (no `library_platt`), or when `motion_id` is no longer in `rows`.
    """
    parts = check_parts(parts, model)
    platt = getattr(calibration, "library_platt", {})
    if calibration is None or not all(p.kind in platt for p in parts) or motion_id not in rows.row_of:
        return None
    e = hit_embedding(rows, rows.row_of[motion_id], parts)[None]
    cos = np.stack([e @ p.embedding for p in parts])  # (parts, 1), rescored as in _hits
    prob = float(_weights(parts) @ np.stack([calibration.library_probability(p.kind, c)[0]
                                          for p, c in zip(parts, cos)]))
    wording = [calibration.wording_probability(q.embedding) for q in parts] if _text_only(parts) else []
    return min([prob] + [w for w in wording if w is not None])


def _text_only(parts: Sequence[QueryPart]) -> bool:
    return all(p.kind == "text" for p in parts)


def knows_wording(calibration: Calibration | None, parts: Sequence[QueryPart]) -> bool:
    """False when a text-only query is worded unlike anything the model learned (model/known_wording.py)."""
    return calibration is None or not _text_only(parts) or all(calibration.knows_wording(p.embedding) for p in parts)


def hit_embedding(rows: Rows, row: int, parts: Sequence[QueryPart]) -> np.ndarray:
    """The embedding a hit is scored by: the motion's, or for a long motion its best window's for the query."""
    a, b = (rows.win_offsets[row], rows.win_offsets[row + 1]) if rows.windows is not None else (0, 0)
    if b <= a:
        return np.asarray(rows.emb[row], dtype=np.float32)
    q = sum(w * p.embedding for w, p in zip(_weights(list(parts)), parts))
    win = rows.windows.emb[a:b]
    # Pick the window with the scan search ranks by (float16 in half stores), so a hit and its library
    # probability are judged on the same window even where two windows nearly tie.
    return np.asarray(win[int(np.argmax(cosine_scores(win, q)))], dtype=np.float32)


def check_parts(parts: Sequence[QueryPart], model: ModelIdentity) -> list[QueryPart]:
    """The parts with kinds and weights checked and embeddings as unit float32 vectors of `model`; else StoreError."""
    if not parts:
        raise StoreError("a query needs at least one part (text, video or motion)")
    out = []
    for p in parts:
        if p.kind not in KINDS:
            raise StoreError(f"unknown query kind {p.kind!r}; use one of {', '.join(KINDS)}")
        if not (p.weight > 0 and math.isfinite(p.weight)):
            raise StoreError(f"query weights must be positive numbers, got {p.weight!r} for {p.kind}")
        e = np.asarray(p.embedding, dtype=np.float32).reshape(-1)
        if e.shape != (model.dim,):
            raise StoreError(f"{p.kind} query embedding has {e.size} values; this store's model "
                             f"({model.model_id}) uses {model.dim}")
        out.append(QueryPart(normalise_rows(e[None], f"{p.kind} query embedding")[0], p.kind, float(p.weight)))
    return out


def _weights(parts: list[QueryPart]) -> np.ndarray:
    """The parts' weights, summing to 1."""
    weights = np.array([p.weight for p in parts], dtype=np.float32)
    return weights / weights.sum()


def _ranker(rows: Rows, q: np.ndarray, mask: np.ndarray | None, index: Any,
            window_scores: np.ndarray | None = None) -> Callable[[int], np.ndarray]:
    """A function m -> the m best rows (passing mask), best first: from faiss when usable, else exact; a motion
    with windows scores as its best window."""
    scores = None
    valid = len(rows) if mask is None else int(mask.sum())

    def ranked(m: int) -> np.ndarray:
        nonlocal scores
        if index is not None:
            cand = index.candidates(q, min(len(index), m if mask is None else 4 * m))
            if mask is not None:
                cand = cand[mask[cand]]
            if len(cand) >= min(m, valid):  # else too few pass the filters: fall back to exact
                exact = np.asarray(rows.emb[cand], dtype=np.float32) @ q
                return cand[np.argsort(-exact, kind="stable")][:m]
        if scores is None:
            scores = cosine_scores(rows.emb, q)
            if window_scores is not None:
                best = best_per_motion(window_scores, rows.win_offsets)
                scores = np.where(np.isfinite(best), best, scores).astype(np.float32)
        return top_k(scores, m, mask)

    return ranked


def _hits(rows: Rows, groups: list[Group], parts: list[QueryPart], weights: np.ndarray,
          calibration: Calibration | None, window_scores: np.ndarray | None = None) -> list[Hit]:
    at_rows = [g.head for g in groups] + [r for g in groups for r, _ in g.folded]
    if not at_rows:
        return []
    e = np.asarray(rows.emb[at_rows], dtype=np.float32)
    ranges = [(0.0, rows.records[r].duration) for r in at_rows]
    if window_scores is not None:  # a long motion stands for its best moment: rescore with that window
        for i, r in enumerate(at_rows):
            if rows.win_offsets[r + 1] > rows.win_offsets[r]:
                m = motion_moment(window_scores, rows.win_offsets, rows.windows.span, r)
                e[i] = rows.windows.emb[m.window]
                fps = rows.records[r].fps
                ranges[i] = (m.start / fps, m.end / fps)
    cos = np.stack([e @ p.embedding for p in parts])  # (parts, rows), exact float32 rescoring
    score = weights @ cos
    prob, threshold = None, -np.inf
    if calibration is not None:
        try:
            prob = weights @ np.stack([np.asarray(calibration.probability(p.kind, c), dtype=np.float64)
                                       for p, c in zip(parts, cos)])
            threshold = float(sum(w * calibration.no_match_below[p.kind] for w, p in zip(weights, parts)))
            if not knows_wording(calibration, parts):
                threshold = math.inf
        except KeyError:  # a model without calibration for this kind: scores only
            prob, threshold = None, -np.inf
    at = {r: i for i, r in enumerate(at_rows)}

    def hit(row: int, relation: str = "") -> Hit:
        r, i = rows.records[row], at[row]
        return Hit(r.id, r.name, float(score[i]), None if prob is None else float(prob[i]), r.duration,
                   list(r.captions), dict(r.labels), r.source.path, [], relation, bool(score[i] >= threshold),
                   *ranges[i])

    hits = []
    for g in groups:
        h = hit(g.head)
        h.folded = [hit(r, rel) for r, rel in g.folded]
        hits.append(h)
    hits.sort(key=lambda h: -h.score)  # float16 stores: order by the exact float32 rescoring
    return hits
