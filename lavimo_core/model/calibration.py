"""What a score means, per query kind (text, video, motion): P(match) for a hit, and the no-match threshold.

Fitted at the end of training on the validation split. A "match" is a (query, motion) pair where the
motion carries every label the query names: for a text query "a person walks sadly", content "walk" and
style "sad"; for "a person walks", content "walk". For a video or motion query, a match is a motion of
the same content (the action shown; the exact style of a clip rarely recurs in a library). Training clips
carry contents in one vocabulary across datasets (data/shared_actions.py), so Bandai-Namco-1's one-hand
"bye" and Bandai-Namco-2's "wave-right-hand" are one content here, and one family below. Without
labels (HumanML3D) a match is a motion whose caption is a near-duplicate of the query's.

`probability(kind, cosine)` = P(this query and this motion match): Platt scaling, sigmoid(a * cosine + b)
with a >= 0, fitted by maximum likelihood on all (query, validation motion) pairs. It is the fraction of
such pairs at that cosine that matched on held-out data, so it depends on how many motions of a library
match a typical query: read it as a relative confidence for one hit, not a guarantee.

`no_match_below[kind]` answers another question, "does the library hold anything like the query?", and
is applied to the query's BEST hit (top-1 cosine): below it, the library most likely has nothing like
the query. The top-1 cosine of a query whose action is missing is much higher than the cosine of a
typical non-matching pair (the best of many non-matches), so it is fitted on top-1 cosines, not pairs:
for every validation query, "present" = its top-1 cosine over the validation clips (its matches are
among them), "absent" = its top-1 cosine once every clip related to it is removed (leave-one-family-out:
all clips of the query's content family, see `content_family`; without labels all its matches; a motion
query never sees itself). Removing the family, not only the content, matters: with only the plain walks
removed, "a person walks" still finds the library's walks that turn, and those near matches counted as
"absent" pushed the threshold up until a third of users' free-worded queries for actions the library
holds were flagged.
`library_probability(kind, top1)` = P(the library holds a match | top-1 cosine): Platt scaling on those
two samples, weighted to even prior odds (as likely absent as present) whatever their counts.
The threshold is where that probability crosses 1/2 (t = -b / a): a best hit is flagged exactly when the
library more likely lacks than holds a match. With even odds this is the balanced-accuracy decision that
Youden's J picks from the empirical curves, but smooth: on the ~23 validation clips of Bandai-Namco the
empirical Youden maximum sits on a single sample (for motion queries it flagged 87% of held-out present
queries; the Platt midpoint 39%, with more absent ones flagged too). Checkpoints written before this (no
`library_platt`) keep their old threshold, Youden on all pairs, and have no library probability.

Caveat: the Bandai-Namco splits are stratified by content, so every validation action is also a training
action; "absent" here means "known to the model, missing from the library". A query about an action the
model never saw (e.g. "a person swims") can land confidently near a known one and pass that threshold; for
text queries a second question catches it (known_wording.py): `knows_wording(text)` is False when the query
is worded unlike every caption the model was trained on (P(known wording) < 1/2, fitted on validation wording
with its content family left out of the bank), and a text query is then "no good match" whatever its best hit.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import numpy as np

from .errors import CheckpointError
from .known_wording import nearest_caption

KINDS = ("text", "video", "motion")


def content_family(content: str) -> str:
    """The family of a content label: its leading word ("walk-turn-left" -> "walk", "wave-both-hands" -> "wave").

    Dataset labels name the action first and then how it is done (direction, hand, length), so contents
    sharing the leading word are variants of one action: a library that holds any of them holds something
    like a query for another.
    """
    return content.split("-", 1)[0]


def related_contents(labels: list[dict[str, str]]) -> np.ndarray:
    """(N, N) bool: clips i and j show variants of one action (same content family; False without a content)."""
    fam = np.array([content_family(lab["content"]) if lab.get("content") else f"\0{i}"
                    for i, lab in enumerate(labels)])
    return fam[:, None] == fam[None, :]


@dataclass
class Calibration:
    """Per query kind: Platt parameters (a, b) for P(match), the no-match top-1 cosine threshold, and Platt
    parameters for P(library has a match | top-1 cosine)."""

    platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    no_match_below: dict[str, float] = field(default_factory=dict)
    # kind -> {"pairs", "matches"} and, when the threshold is fitted on top-1 cosines, {"top1_present", "top1_absent"}
    fitted_on: dict[str, dict[str, int]] = field(default_factory=dict)
    library_platt: dict[str, tuple[float, float]] = field(default_factory=dict)  # empty in older checkpoints
    # Training captions' text embeddings (unit rows) and P(known wording | nearest one's cosine); None in older
    # checkpoints (known_wording.py).
    wording_bank: np.ndarray | None = None
    wording_platt: tuple[float, float] | None = None

    def probability(self, kind: str, cosine: np.ndarray) -> np.ndarray:
        """P(query and motion match) for cosines of a query of `kind` ("text", "video", "motion")."""
        if kind not in self.platt:
            raise KeyError(f"no calibration for query kind {kind!r}; have {sorted(self.platt)}")
        return _sigmoid(self.platt[kind], cosine)

    def library_probability(self, kind: str, top1_cosine: np.ndarray) -> np.ndarray:
        """P(the library holds a match for the query) from the cosine of its best hit (even prior odds)."""
        if kind not in self.library_platt:
            raise KeyError(f"no library-match calibration for query kind {kind!r} (checkpoint older than it?); "
                           f"have {sorted(self.library_platt)}")
        return _sigmoid(self.library_platt[kind], top1_cosine)

    @property
    def wording_below(self) -> float | None:
        """The nearest-training-caption cosine below which a text query's wording counts as unknown (None: no bank)."""
        return None if self.wording_platt is None else _midpoint(self.wording_platt)

    def wording_probability(self, text_embedding: np.ndarray) -> float | None:
        """P(the model learned an action worded like this text query); None for a checkpoint without a bank."""
        if self.wording_bank is None or self.wording_platt is None:
            return None
        return float(_sigmoid(self.wording_platt, nearest_caption(np.reshape(text_embedding, (1, -1)),
                                                                   self.wording_bank))[0])

    def knows_wording(self, text_embedding: np.ndarray) -> bool:
        """Whether a text query is worded like something the model was trained on (True without a bank)."""
        p = self.wording_probability(text_embedding)
        return p is None or p >= 0.5

    def to_dict(self) -> dict:
        """JSON-ready dict (the wording bank as base64 float16: 0.7 MB for 1,024 x 256)."""
        out = {"platt": {k: list(v) for k, v in self.platt.items()}, "no_match_below": dict(self.no_match_below),
               "fitted_on": self.fitted_on, "library_platt": {k: list(v) for k, v in self.library_platt.items()}}
        if self.wording_bank is not None and self.wording_platt is not None:
            bank = np.ascontiguousarray(self.wording_bank, dtype="<f2")
            out["wording"] = {"platt": list(self.wording_platt), "below": self.wording_below,
                              "shape": list(bank.shape), "float16_base64": base64.b64encode(bank.tobytes()).decode()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """Inverse of to_dict."""
        cal = cls({k: (float(v[0]), float(v[1])) for k, v in data.get("platt", {}).items()},
                  {k: float(v) for k, v in data.get("no_match_below", {}).items()}, data.get("fitted_on", {}),
                  {k: (float(v[0]), float(v[1])) for k, v in data.get("library_platt", {}).items()})
        if (w := data.get("wording")) is not None:
            fix = "run `lavimo recalibrate CKPT` to refit it, or copy the checkpoint folder again"
            try:
                n, d = (int(x) for x in w["shape"])
                raw = base64.b64decode(w["float16_base64"], validate=True)
                cal.wording_platt = (float(w["platt"][0]), float(w["platt"][1]))
            except (KeyError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
                raise CheckpointError(f"checkpoint.json: the calibration's wording bank is damaged "
                                      f"({type(exc).__name__}: {exc}); {fix}") from None
            if len(raw) != n * d * 2:
                raise CheckpointError(f"checkpoint.json: the calibration's wording bank has {len(raw)} bytes for "
                                      f"shape ({n}, {d}) float16; {fix}")
            cal.wording_bank = np.frombuffer(raw, dtype="<f2").reshape(n, d).astype(np.float32)
        return cal


def _midpoint(ab: tuple[float, float]) -> float:
    """The cosine where a Platt fit gives 1/2; a flat fit (a = 0) is no evidence for flagging anything."""
    a, b = ab
    return float(np.clip(-b / a, -1.0, 1.0)) if a > 0 else -1.0


def _sigmoid(ab: tuple[float, float], cosine: np.ndarray) -> np.ndarray:
    a, b = ab
    return 1.0 / (1.0 + np.exp(-(a * np.asarray(cosine, dtype=np.float64) + b)))


def fit_platt(cosine: np.ndarray, match: np.ndarray, balanced: bool = False) -> tuple[float, float]:
    """Platt scaling: (a >= 0, b) maximising the likelihood of `match` under sigmoid(a * cosine + b).

    Uses Platt's smoothed targets so that a perfectly separable validation set does not give an
    infinitely steep curve. `balanced`: weight both classes equally (even prior odds, whatever the counts).
    """
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit
    x = np.asarray(cosine, dtype=np.float64).ravel()
    y = np.asarray(match, dtype=bool).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("calibration needs both matching and non-matching pairs")
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    w = np.where(y, x.size / (2.0 * n_pos), x.size / (2.0 * n_neg)) if balanced else np.ones_like(x)

    def loss(p):
        z = p[0] * x + p[1]
        nll = -(w * (t * log_expit(z) + (1 - t) * log_expit(-z))).sum()
        g = w * (expit(z) - t)
        return nll, np.array([(g * x).sum(), g.sum()])

    prior = 0.0 if balanced else np.log((n_pos + 1.0) / (n_neg + 1.0))
    res = minimize(loss, np.array([1.0, prior]), jac=True, method="L-BFGS-B", bounds=[(0.0, None), (None, None)])
    return float(res.x[0]), float(res.x[1])


def youden_threshold(cosine: np.ndarray, match: np.ndarray) -> float:
    """The cosine t maximising TPR - FPR of the rule "match iff cosine >= t"."""
    x = np.asarray(cosine, dtype=np.float64).ravel()
    y = np.asarray(match, dtype=bool).ravel()
    order = np.argsort(-x, kind="stable")
    xs, ys = x[order], y[order]
    tpr = np.cumsum(ys) / max(ys.sum(), 1)
    fpr = np.cumsum(~ys) / max((~ys).sum(), 1)
    last_of_value = np.r_[xs[1:] != xs[:-1], True]  # only thresholds between distinct cosines
    j = np.where(last_of_value, tpr - fpr, -np.inf)
    return float(xs[int(np.argmax(j))])


def top1_present_absent(cosine: np.ndarray, match: np.ndarray, related: np.ndarray,
                        visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-1 cosines per query (rows of (Q, N) arrays): with its matches in the gallery, and without `related`.

    `match`: the pair matches; `related`: the clips removed to make the query's action absent (a superset of
    its matches); `visible`: gallery entries the query may see at all (e.g. not the query clip itself).
    Returns (present, absent): a query counts in `present` when a visible clip matches it, and in `absent`
    when a visible clip is unrelated to it.
    """
    cos = np.asarray(cosine, dtype=np.float64)
    visible = np.ones(cos.shape, dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    match, related = np.asarray(match, dtype=bool) & visible, (np.asarray(related, dtype=bool) | match)
    present = np.where(visible, cos, -np.inf).max(axis=1)[match.any(axis=1)]
    unrelated = visible & ~related
    absent = np.where(unrelated, cos, -np.inf).max(axis=1)[unrelated.any(axis=1)]
    return present, absent


def fit_calibration(pairs: dict[str, tuple[np.ndarray, np.ndarray]],
                    top1: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                    wording: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Calibration:
    """pairs[kind] = (cosines, match flags), top1[kind] = (present, absent) top-1 cosines, wording = (bank, known,
    unknown nearest-caption cosines) -> Calibration.

    The threshold is where the top-1 Platt fit gives P(library has a match) = 1/2 (see the module docstring).
    Without top-1 samples for a kind (or without both present and absent ones) it falls back to Youden's J
    on the pairs, as in older checkpoints. The wording fit is balanced the same way (known_wording.py).
    """
    cal = Calibration()
    for kind, (cos, match) in pairs.items():
        match = np.asarray(match, dtype=bool)
        cal.fitted_on[kind] = {"pairs": int(match.size), "matches": int(match.sum())}
        if match.all() or not match.any():
            # Nothing to separate: a constant probability (the observed rate) is all the data supports.
            rate = (match.sum() + 1.0) / (match.size + 2.0)
            cal.platt[kind] = (0.0, float(np.log(rate / (1 - rate))))
            cal.no_match_below[kind] = 1.0 if not match.any() else -1.0
            continue
        cal.platt[kind] = fit_platt(cos, match)
        cal.no_match_below[kind] = youden_threshold(cos, match)
    for kind, (present, absent) in (top1 or {}).items():
        present, absent = np.ravel(present), np.ravel(absent)
        if kind not in cal.platt or not len(present) or not len(absent):
            continue
        x, y = np.r_[present, absent], np.r_[np.ones(len(present), bool), np.zeros(len(absent), bool)]
        cal.library_platt[kind] = fit_platt(x, y, balanced=True)
        cal.no_match_below[kind] = _midpoint(cal.library_platt[kind])  # where P(library has a match) = 1/2
        cal.fitted_on[kind] |= {"top1_present": int(len(present)), "top1_absent": int(len(absent))}
    if wording is not None:
        bank, known, unknown = (np.asarray(x, dtype=np.float32) for x in wording)
        x = np.r_[known, unknown]
        cal.wording_platt = fit_platt(x, np.r_[np.ones(len(known), bool), np.zeros(len(unknown), bool)], balanced=True)
        cal.wording_bank = bank
        cal.fitted_on["wording"] = {"bank": int(len(bank)), "known": int(len(known)), "unknown": int(len(unknown))}
    return cal
