"""Bandai-Namco-2 read from its archive: labels, captions checked on the joints, split, license, on the real clips."""

import re
from collections import Counter

import numpy as np
import pytest

from lavimo_core.data import DatasetError, load_dataset
from lavimo_core.data.bandai2 import (
    ATTRIBUTION,
    CONTENT_PHRASES,
    EXPECTED_SIDES,
    LICENSE,
    STYLE_PHRASES,
    captions_for,
    parse_name,
)
from lavimo_core.motion.sides import raised_hands, turn_side
from lavimo_core.paths import find_dataset

ROOT = find_dataset("bandai-namco-2-dev")
CFG_CONTENTS = [l.removeprefix("dataset-2_") for l in (ROOT / "content_label.txt").read_text().split()]
CFG_STYLES = [l.removeprefix("dataset-2_") for l in (ROOT / "style_label.txt").read_text().split()]
# Takes whose turn goes the other way than their label says (feet, hips and walking path agree; measured
# when the loader was written): left out and reported, never captioned wrongly.
MISLABELLED = {"dataset-2_walk-turn-left_masculine_006", "dataset-2_walk-turn-left_masculine_007",
               "dataset-2_walk-turn-right_masculine_006", "dataset-2_walk-turn-right_masculine_007",
               "dataset-2_walk-turn-right_normal_004"}


@pytest.fixture(scope="module")
def bandai2():
    return load_dataset("bandai-namco-2-dev")


def test_every_clip_of_the_archive_is_read_or_reported(bandai2):
    assert bandai2.name == "bandai-namco-2"
    assert len(bandai2) + len(bandai2.skipped) == 1937
    skipped = {re.sub(r"\.bvh$", "", s.split("/")[-1]) for s, _ in bandai2.skipped}
    assert skipped == MISLABELLED
    assert all("left out rather than captioned wrongly" in why for _, why in bandai2.skipped)


def test_labels_from_names(bandai2):
    assert set(CFG_CONTENTS) == set(CONTENT_PHRASES) and set(CFG_STYLES) == set(STYLE_PHRASES)
    for m in bandai2.motions:
        assert (m.labels["content"], m.labels["style"]) == parse_name(m.name)
        assert m.fps == 20.0 and m.joints.shape[1:] == (22, 3)
    counts = Counter(m.labels["content"] for m in bandai2.motions)
    assert set(counts) == set(CFG_CONTENTS) and min(counts.values()) >= 100


def test_license_and_attribution_carried(bandai2):
    assert bandai2.license == LICENSE == "CC BY-NC 4.0" and "Motiondataset-2" in bandai2.attribution == ATTRIBUTION
    assert all(m.source.license == LICENSE and m.source.attribution == ATTRIBUTION for m in bandai2.motions)


def test_captions_name_the_side_the_joints_show(bandai2):
    """Each side word in a caption is what the joints show, from the performer's point of view."""
    for m in bandai2.motions:
        hands, turn = EXPECTED_SIDES.get(m.labels["content"], (None, None))
        assert len(m.captions) >= 4 and len(set(m.captions)) == len(m.captions)
        for c in m.captions:
            sides = set(re.findall(r"\b(left|right|both)\b", c))
            if hands is not None:
                assert sides == {hands} and raised_hands(m.joints) == hands, (m.name, c)
            elif turn is not None:
                assert sides == {turn} and turn_side(m.joints) == turn, (m.name, c)
            else:
                assert not sides, (m.name, c)


def test_mislabelled_turns_really_turn_the_other_way():
    """The skipped takes, read on their own: their feet turn against the label."""
    from lavimo_core.data.bandai2 import unpack_archive
    from lavimo_core.data.cache import load_motion_cached
    folder = unpack_archive(ROOT / "bvh.tar.xz")
    for name in sorted(MISLABELLED - {"dataset-2_walk-turn-right_masculine_006"}):   # that one spins > 180 deg
        label = parse_name(name)[0].removeprefix("walk-turn-")
        assert turn_side(load_motion_cached(folder / f"{name}.bvh").joints) == {"left": "right", "right": "left"}[label]


def test_split_is_stratified_and_deterministic(bandai2):
    n = {s: len(v) for s, v in bandai2.splits.items()}
    assert sum(n.values()) == len(bandai2) and n["val"] == n["test"] and 0.13 < n["test"] / len(bandai2) < 0.17
    for s in ("val", "test"):
        assert {m.labels["content"] for m in bandai2.split(s)} == set(CFG_CONTENTS)
    assert load_dataset(str(ROOT)).splits == bandai2.splits


def test_joined_with_dataset_1():
    both = load_dataset("bandai-namco-1+bandai-namco-2-dev")
    assert both.name == "bandai-namco-1+bandai-namco-2" and both.license == LICENSE
    assert len(both) == 174 + 1932
    assert sorted(i for v in both.splits.values() for i in v) == list(range(len(both)))
    assert {m.name.split("_")[0] for m in both.split("test")} == {"dataset-1", "dataset-2"}


def test_captions_for():
    assert captions_for("wave-left-hand") == captions_for("wave-left-hand")
    a = captions_for("walk-turn-right", "elderly", np.random.default_rng(3))
    assert a == captions_for("walk-turn-right", "elderly", np.random.default_rng(3))
    assert all("right" in c for c in a)
    with pytest.raises(KeyError, match="unknown Bandai-Namco-2 content"):
        captions_for("fly")
    with pytest.raises(DatasetError, match="not a Bandai-Namco-2 clip name"):
        parse_name("dataset-1_walk_normal_001")
