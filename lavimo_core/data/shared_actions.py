"""One content name per action across datasets: Bandai-Namco-1 contents that Bandai-Namco-2 names otherwise.

Training pulls a caption towards every clip whose labels carry all the labels the caption names (label
positives), and calibration removes a query's whole content family to make its action absent; both compare
content names. So a Bandai-Namco-1 "bye" (one hand waved, right hand on the joints) and a Bandai-Namco-2
"wave-right-hand" were taught as different actions, pushed apart in every batch that held both, and
calibration counted one as "absent" while the other was in the gallery. Users search across both: "a man
waving goodbye" then found Bandai-Namco-1's waves at 0.7 and Bandai-Namco-2's at 0.4.

The table is by the performer's side, which data/bandai.py checks on the joints (`SIDED`); a clip whose side
is unclear keeps its own content. Similar but different actions stay apart: "dash" is a sprint, not a run;
"call" (hands at the mouth) and "guide" (arm pointing forward) have no counterpart.
"""

from __future__ import annotations

from collections.abc import Mapping

# (Bandai-Namco-1 content, side shown on the joints) -> the Bandai-Namco-2 content showing the same action.
SAME_ACTION: dict[tuple[str, str | None], str] = {
    ("bye", "right"): "wave-right-hand",       # one hand raised and waved
    ("bye", "left"): "wave-left-hand",         # (its mirror)
    ("byebye", None): "wave-both-hands",       # both hands raised and waved
    ("respond", "left"): "raise-up-left-hand",  # one hand raised above the head
    ("respond", "right"): "raise-up-right-hand",
}


def shared_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels with the content in the shared vocabulary; the side moves into the content name as in Bandai-Namco-2.

    {"content": "bye", "side": "right", "style": "happy"} -> {"content": "wave-right-hand", "style": "happy"}.
    Labels of contents without a counterpart come back unchanged.
    """
    out = dict(labels)
    content = out.get("content")
    side = out.get("side")
    shared = SAME_ACTION.get((content, side)) if content else None
    if shared is None:
        return out
    out["content"] = shared
    out.pop("side", None)  # the shared content names the side, as Bandai-Namco-2's labels do
    return out
