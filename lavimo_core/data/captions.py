"""Template captions from a labelled clip's verb phrases and style phrases (the Bandai-Namco datasets' labels).

Each dataset keeps its own phrase tables (what its contents and styles look like); this module only turns
them into sentences, so every dataset's captions have the same shapes and the same subject words.

Each dataset also keeps a few phrasings per content that training never uses (UNSEEN_PHRASES), said with
subjects training never uses: validation scores and calibrates text queries on them, because users' words
are not the templates', and a model scored on its own templates looks surer of free text than it is. Half
of them carry a context the way people write ("takes a stroll to the corner shop"): with only plain ones
("is walking along"), validation queries' best hits scored about 0.1 above free wording's, and the no-match
threshold fitted on them flagged 38% of free-worded queries for actions a library held.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CAPTIONS_PER_CLIP = 8
SUBJECTS = ("a person", "someone", "the person", "a character", "a human", "an actor")
UNSEEN_SUBJECTS = ("somebody", "a man", "a woman", "a boy", "an old woman", "he", "she")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def template_captions(verbs: Sequence[str], styles: Sequence[str] | None, adjective: str | None,
                      rng: np.random.Generator | None = None) -> list[str]:
    """Captions from verb phrases (and style phrases; None: the content only); fixed without `rng`, drawn with it."""
    pick = (lambda seq, i: seq[i % len(seq)]) if rng is None else (lambda seq, i: seq[rng.integers(len(seq))])
    if styles is None:
        return list(dict.fromkeys(f"{pick(SUBJECTS, i)} {pick(verbs, i)}" for i in range(max(len(verbs), 3))))
    out: list[str] = []
    for i in range(CAPTIONS_PER_CLIP * 3):
        verb, phrase = pick(verbs, i), pick(styles, i + i // len(verbs))
        if adjective and i % 3 == 2:
            out.append(f"{_article(adjective)} {adjective} person {verb}")
        else:
            out.append(f"{pick(SUBJECTS, i)} {verb} {phrase}".rstrip())
        out = list(dict.fromkeys(out))
        if len(out) == CAPTIONS_PER_CLIP:
            break
    return out


def unseen_captions(verbs: Sequence[str]) -> list[str]:
    """Content-only captions from phrasings and subjects that training never uses (see the module docstring)."""
    return [f"{UNSEEN_SUBJECTS[(i + j) % len(UNSEEN_SUBJECTS)]} {verb}"
            for i, verb in enumerate(verbs) for j in range(2)]
