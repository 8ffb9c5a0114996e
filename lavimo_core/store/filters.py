"""Search filters (duration, source path, labels) and the boolean row mask they select."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Filters:
    """Restrict a search. Every field that is set must hold for a motion to be returned."""

    min_duration: float | None = None  # seconds
    max_duration: float | None = None  # seconds
    source: str | None = None  # case-insensitive substring of the motion's source file path
    labels: dict[str, str] = field(default_factory=dict)  # key -> value, case-insensitive; key "" = any key

    def is_empty(self) -> bool:
        """True when the filter lets everything through."""
        return self.min_duration is None and self.max_duration is None and not self.source and not self.labels


class LabelIndex:
    """Labels of every row as integer codes per key, so a label filter is one vectorised comparison."""

    def __init__(self, labels: list[dict[str, str]]):
        keys = sorted({k.lower() for d in labels for k in d})
        self.codes: dict[str, np.ndarray] = {}
        self.vocab: dict[str, dict[str, int]] = {}
        for key in keys:
            vocab: dict[str, int] = {}
            codes = np.full(len(labels), -1, dtype=np.int32)
            for i, d in enumerate(labels):
                for k, v in d.items():
                    if k.lower() == key:
                        codes[i] = vocab.setdefault(str(v).lower(), len(vocab))
            self.codes[key], self.vocab[key] = codes, vocab

    def match(self, key: str, value: str, n: int) -> np.ndarray:
        """Rows whose label `key` equals `value` (any key when key is "")."""
        value = value.lower()
        keys = [key.lower()] if key else list(self.codes)
        out = np.zeros(n, dtype=bool)
        for k in keys:
            code = self.vocab.get(k, {}).get(value)
            if code is not None:
                out |= self.codes[k] == code
        return out


def filter_mask(filters: Filters | None, durations: np.ndarray, sources: list[str],
                labels: LabelIndex) -> np.ndarray | None:
    """Boolean (N,) mask of rows passing `filters`, or None when there is no filter."""
    if filters is None or filters.is_empty():
        return None
    n = len(durations)
    mask = np.ones(n, dtype=bool)
    if filters.min_duration is not None:
        mask &= durations >= filters.min_duration
    if filters.max_duration is not None:
        mask &= durations <= filters.max_duration
    if filters.source:
        needle = filters.source.lower()
        mask &= np.fromiter((needle in s for s in sources), dtype=bool, count=n)
    for key, value in filters.labels.items():
        mask &= labels.match(key, value, n)
    return mask
