"""Left/right read off the joints and kept consistent by mirroring, on real clips of Bandai-Namco 1 and 2.

For every one-sided clip: its captions name the side its joints show (from the performer's point of
view), and its mirror image (joints mirrored, captions and labels swapped, as training does) names the
other side, which the mirrored joints show too.
"""

import numpy as np
import pytest

from lavimo_core.data import load_dataset
from lavimo_core.data.bandai import SIDED, shown_side
from lavimo_core.data.bandai2 import EXPECTED_SIDES
from lavimo_core.model.losses import label_positives
from lavimo_core.motion.features import BadShapeError
from lavimo_core.motion.mirror import mirror_caption, mirror_joints
from lavimo_core.motion.motion import Motion
from lavimo_core.motion.sides import kicking_leg, named_sides, raised_hands, turn_degrees, turn_side
from lavimo_core.train.clips import content_captions, prepare_clips

OTHER = {"left": "right", "right": "left", "both": "both"}


@pytest.fixture(scope="module")
def bandai1():
    return load_dataset("bandai-namco-1")


@pytest.fixture(scope="module")
def bandai2_sided():
    ds = load_dataset("bandai-namco-2-dev")
    # Two takes per one-sided content and style keep the test quick; the loader checks all of them.
    picked, seen = [], {}
    for m in ds.motions:
        key = (m.labels["content"], m.labels["style"])
        if m.labels["content"] in EXPECTED_SIDES and seen.get(key, 0) < 2:
            seen[key] = seen.get(key, 0) + 1
            picked.append(m)
    return picked


def _shown(joints: np.ndarray, content: str) -> str | None:
    """What the joints show for a content: the raised hand(s), the turn, or the kicking leg."""
    if content.startswith("walk-turn"):
        return turn_side(joints)
    if content == "kick":
        return kicking_leg(joints)
    if content in SIDED:
        return shown_side(Motion("m", joints), content)
    return raised_hands(joints)


def _check_pair(clip, content: str) -> int:
    """Views 0 (as recorded) and 1 (mirrored) of a training clip: captions and joints agree, sides opposite."""
    checked = 0
    for view, flip in zip(clip.views, (False, True), strict=True):
        shown = _shown(view.joints, content)
        expected = view.labels.get("side") or next(iter(named_sides(view.labels["content"])), "both")
        if flip:
            assert expected == OTHER[_shown(clip.views[0].joints, content)], clip.name
        assert shown == expected, (clip.name, flip, shown, expected)
        for caption in view.captions + view.content_captions:
            sides = named_sides(caption) or ({"both"} if "both" in caption else set())
            assert sides <= {expected}, (clip.name, flip, caption)
            checked += bool(sides)
    return checked


def test_bandai2_captions_and_mirrors_name_the_side_the_joints_show(bandai2_sided):
    checked = 0
    for clip in prepare_clips(bandai2_sided, mirror=True):
        m_content = clip.views[1].labels["content"]
        assert m_content == mirror_caption(clip.views[0].labels["content"])
        checked += _check_pair(clip, clip.views[0].labels["content"])
    assert checked > 500


def test_bandai1_one_sided_clips_and_mirrors(bandai1):
    sided = [m for m in bandai1.motions if m.labels["content"] in SIDED]
    with_side = [m for m in sided if "side" in m.labels]
    assert len(sided) == 32 and len(with_side) >= 27      # measured: bye 14/15, guide 11/15, respond, kick
    for m in sided:
        if "side" not in m.labels:                          # not clear on the joints: no side word at all
            assert not any(named_sides(c) for c in m.captions + content_captions(m)), m.name
    checked = sum(_check_pair(clip, clip.views[0].labels["content"])
                  for clip in prepare_clips(with_side, mirror=True))
    assert checked > 20


def test_turns_flip_sign_under_mirroring(bandai2_sided):
    for m in bandai2_sided:
        if m.labels["content"].startswith("walk-turn"):
            assert turn_degrees(mirror_joints(m.joints)) == pytest.approx(-turn_degrees(m.joints), abs=1e-3)


def test_label_positives_never_pair_a_caption_with_the_mirrored_side(bandai1):
    """A mirrored right-hand wave is not a positive for "raises the right hand and waves bye"."""
    bye = next(m for m in bandai1.motions if m.labels.get("side") == "right" and m.labels["content"] == "bye")
    recorded, mirrored = prepare_clips([bye], mirror=True)[0].views
    right_caption = {k: v for k, v in recorded.labels.items() if k in ("content", "side")}
    pos = label_positives([right_caption], [recorded.labels, mirrored.labels])
    assert pos.tolist() == [[True, False]]


def test_sides_reject_bad_shapes():
    with pytest.raises(BadShapeError):
        raised_hands(np.zeros((1, 22, 3)))
    with pytest.raises(BadShapeError):
        turn_side(np.zeros((10, 21, 3)))
