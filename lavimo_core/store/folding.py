"""Fold mirror images and near-identical takes under the best-ranked clip, so they do not crowd the top results.

Each motion B is stored with its embedding emb(B) and the embedding of its mirror image mirror_emb(B).
Walking down the ranked candidates, B is folded under an earlier kept result A ("head") when
  cos(emb(B), mirror_emb(A)) >= MIRROR_THRESHOLD   -> relation "mirror"   (B looks like A mirrored), or
  cos(emb(B), emb(A))        >= DUPLICATE_THRESHOLD -> relation "near-duplicate" (B looks like A);
otherwise B becomes a head itself. Only heads are compared against, so folding is not transitive.
The thresholds are cosines in the model's motion space; see the module constants for how they were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Cosines in the model's motion space, measured on Bandai-Namco-1 with two trained models (tiny 64-d and
# bimodal 256-d; bench/bench_store.py's augmentations): a clip's mirrored copy embeds at >= 0.999 to the
# clip's mirror embedding; a 10% speed change or a crop keeping 90% of the clip at ~0.99-0.998 (median);
# the nearest *other* clip (another take, style or action) is above 0.99 for 0-7% of clips and never
# above 0.995. Lower thresholds (0.97) would fold a third of the distinct clips with the smaller model.
MIRROR_THRESHOLD = 0.99
DUPLICATE_THRESHOLD = 0.99


@dataclass
class Group:
    """One kept result (`head`, a row index) and the rows folded under it, with their relation."""

    head: int
    folded: list[tuple[int, str]] = field(default_factory=list)


def fold(rows: np.ndarray, embedding: np.ndarray, mirror_embedding: np.ndarray, k: int,
         hidden_heads: np.ndarray | None = None, duplicate_threshold: float = DUPLICATE_THRESHOLD,
         mirror_threshold: float = MIRROR_THRESHOLD) -> list[Group]:
    """Group ranked candidate `rows` (best first) into at most k groups, in rank order of their heads.

    `hidden_heads` are rows that act as heads but are not returned (the query of a "find similar"): its
    mirror and near-duplicates are dropped rather than shown. Rows after the k-th head still fold into
    the kept heads; a row that would start a (k+1)-th head is skipped. Fewer than k groups means the
    candidates ran out: the caller fetches more.
    """
    hidden = np.asarray(hidden_heads if hidden_heads is not None else [], dtype=np.int64)
    all_rows = np.concatenate([hidden, np.asarray(rows, dtype=np.int64)])
    e = np.asarray(embedding[all_rows], dtype=np.float32)
    m = np.asarray(mirror_embedding[all_rows], dtype=np.float32)
    dup = e @ e.T          # dup[b, a] = cos(emb(b), emb(a))
    mir = e @ m.T          # mir[b, a] = cos(emb(b), mirror_emb(a))
    heads: list[int] = list(range(len(hidden)))  # positions in all_rows
    groups: dict[int, Group] = {}
    for pos in range(len(hidden), len(all_rows)):
        h = np.asarray(heads, dtype=np.int64)
        if len(h):
            mir_h, dup_h = mir[pos, h], dup[pos, h]
            best_mir, best_dup = int(np.argmax(mir_h)), int(np.argmax(dup_h))
            # Fold under the first head that qualifies; when both relations do, prefer the stronger cosine.
            cand = []
            if mir_h[best_mir] >= mirror_threshold:
                cand.append((mir_h[best_mir], int(h[best_mir]), "mirror"))
            if dup_h[best_dup] >= duplicate_threshold:
                cand.append((dup_h[best_dup], int(h[best_dup]), "near-duplicate"))
            if cand:
                _, head, relation = max(cand)
                if head in groups:
                    groups[head].folded.append((int(all_rows[pos]), relation))
                continue
        if len(groups) >= k:
            continue
        heads.append(pos)
        groups[pos] = Group(int(all_rows[pos]))
    return [groups[p] for p in heads if p in groups]
