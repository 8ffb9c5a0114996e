"""What a score means: a monotone map cosine -> P(match), and a no-match threshold, per query kind.

Fitted at the end of training on the validation split. A "match" is a (query, motion) pair where the
motion carries every label the query names: for a text query "a person walks sadly", content "walk" and
style "sad"; for "a person walks", content "walk". For a video or motion query, a match is a motion of
the same content (the action shown; the exact style of a clip rarely recurs in a library). Without
labels (HumanML3D) a match is a motion whose caption is a near-duplicate of the query's. P(match) is Platt scaling, sigmoid(a * cosine + b) with a >= 0, fitted by maximum likelihood
on all (query, validation motion) pairs, so it is the fraction of such pairs at that cosine that
matched on held-out data — it depends on how many motions in a library match a typical query, so
read it as a relative confidence, not a guarantee. `no_match_below[kind]` is the cosine that best
separates matches from non-matches on those pairs (Youden's J = TPR - FPR at its maximum): a best hit
below it most likely means the library has nothing like the query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KINDS = ("text", "video", "motion")


@dataclass
class Calibration:
    """Per query kind: Platt parameters (a, b) and the no-match cosine threshold."""

    platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    no_match_below: dict[str, float] = field(default_factory=dict)
    fitted_on: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> {"pairs", "matches"}

    def probability(self, kind: str, cosine: np.ndarray) -> np.ndarray:
        """P(query and motion match) for cosines of a query of `kind` ("text", "video", "motion")."""
        if kind not in self.platt:
            raise KeyError(f"no calibration for query kind {kind!r}; have {sorted(self.platt)}")
        a, b = self.platt[kind]
        return 1.0 / (1.0 + np.exp(-(a * np.asarray(cosine, dtype=np.float64) + b)))

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"platt": {k: list(v) for k, v in self.platt.items()}, "no_match_below": dict(self.no_match_below),
                "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict) -> "Calibration":
        """Inverse of to_dict."""
        return cls({k: (float(v[0]), float(v[1])) for k, v in data.get("platt", {}).items()},
                   {k: float(v) for k, v in data.get("no_match_below", {}).items()}, data.get("fitted_on", {}))


def fit_platt(cosine: np.ndarray, match: np.ndarray) -> tuple[float, float]:
    """Platt scaling: (a >= 0, b) maximising the likelihood of `match` under sigmoid(a * cosine + b).

    Uses Platt's smoothed targets so that a perfectly separable validation set does not give an
    infinitely steep curve.
    """
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit
    x = np.asarray(cosine, dtype=np.float64).ravel()
    y = np.asarray(match, dtype=bool).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("calibration needs both matching and non-matching pairs")
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(p):
        z = p[0] * x + p[1]
        nll = -(t * log_expit(z) + (1 - t) * log_expit(-z)).sum()
        g = expit(z) - t
        return nll, np.array([(g * x).sum(), g.sum()])

    prior = np.log((n_pos + 1.0) / (n_neg + 1.0))
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


def fit_calibration(pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> Calibration:
    """pairs[kind] = (cosines, match flags) from the validation split -> Calibration."""
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
    return cal
