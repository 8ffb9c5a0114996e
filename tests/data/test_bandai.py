"""Bandai-Namco-1 as a dataset: labels, captions, license and the deterministic split, on the real files."""

import json
import re

import numpy as np
import pytest

from lavimo_core.data import DatasetError, load_dataset
from lavimo_core.data.bandai import (
    ATTRIBUTION,
    CONTENT_PHRASES,
    LICENSE,
    STYLE_ADJECTIVES,
    STYLE_PHRASES,
    captions_for,
    parse_name,
    split_by_content,
)
from lavimo_core.paths import find_dataset

ROOT = find_dataset("bandai-namco-1")
CFG_CONTENTS = [l.removeprefix("dataset-1_") for l in (ROOT / "cfg" / "content_label.txt").read_text().split()]
CFG_STYLES = [l.removeprefix("dataset-1_") for l in (ROOT / "cfg" / "style_label.txt").read_text().split()]
# Words a caption of each content must contain (what the motion shows).
CONTENT_WORDS = {"walk": "walk|stroll", "run": "run|jog", "dash": "sprint|dash|fast|full speed",
                 "walk-back": "backward|backs up",
                 "walk-left": "left", "walk-right": "right", "bow": "bow", "bye": "wave|bye",
                 "byebye": "both|bye", "guide": "way|guide|direct", "respond": "raise|answer|respond",
                 "call": "call|shout", "punch": "punch|jab", "kick": "kick", "slash": "sword|slash",
                 "dance-short": "danc"}


@pytest.fixture(scope="module")
def bandai():
    return load_dataset("bandai-namco-1")


def test_all_clips_with_labels_from_names_and_json(bandai):
    assert bandai.name == "bandai-namco-1" and len(bandai) == 174 and bandai.skipped == []
    assert len({m.name for m in bandai.motions}) == 174
    for m in bandai.motions:
        meta = json.loads((ROOT / "data" / f"{m.name}.json").read_text())
        side = {"side": m.labels["side"]} if "side" in m.labels else {}    # one-sided contents, see test_sides
        assert m.labels == {"content": CFG_CONTENTS[meta["content"]], "style": CFG_STYLES[meta["style"]]} | side
        assert m.labels["content"] in m.name and m.labels["style"] in m.name


def test_a_path_to_the_dataset_is_recognised(bandai):
    by_path = load_dataset(str(ROOT))
    assert by_path.name == bandai.name and by_path.splits == bandai.splits
    assert [m.labels for m in by_path.motions] == [m.labels for m in bandai.motions]


def test_license_and_attribution(bandai):
    assert bandai.license == LICENSE == "CC BY-NC 4.0"
    assert "Bandai Namco Research" in bandai.attribution == ATTRIBUTION
    for m in bandai.motions:
        assert m.source.license == LICENSE and m.source.attribution == ATTRIBUTION


def test_captions_describe_content_and_style(bandai):
    for m in bandai.motions:
        content, style = m.labels["content"], m.labels["style"]
        assert len(m.captions) >= 4 and len(set(m.captions)) == len(m.captions)
        for c in m.captions:
            assert c == c.strip() and c[0].islower()
            assert re.search(CONTENT_WORDS[content], c), (m.name, c)
        if style != "normal":
            stems = {w for p in STYLE_PHRASES[style] for w in re.findall(r"[a-z]{4,}", p)}
            assert any(any(s in c for s in stems) for c in m.captions), (m.name, m.captions)


def test_every_label_has_phrases():
    assert set(CFG_CONTENTS) <= set(CONTENT_PHRASES)
    assert set(CFG_STYLES) == set(STYLE_PHRASES)


def test_captions_for_content_only():
    phrases = [p for ps in STYLE_PHRASES.values() for p in ps if p]
    adjectives = [a for a in STYLE_ADJECTIVES.values() if a]
    for content in CFG_CONTENTS:
        caps = captions_for(content)
        assert len(caps) >= 3 and caps == captions_for(content)        # fixed without rng
        for c in caps:
            assert not any(p in c for p in phrases) and not any(f"{a} person" in c for a in adjectives), c


def test_captions_for_with_rng_varies_but_is_reproducible():
    a = captions_for("walk-back", "sad", np.random.default_rng(1))
    b = captions_for("walk-back", "sad", np.random.default_rng(1))
    c = captions_for("walk-back", "sad", np.random.default_rng(2))
    assert a == b and a != c
    assert any("walks backward step by step looking sad" in x for x in captions_for("walk-back", "sad"))
    with pytest.raises(KeyError, match="unknown Bandai-Namco content"):
        captions_for("fly")
    with pytest.raises(KeyError, match="unknown Bandai-Namco style"):
        captions_for("walk", "sleepy")


def test_parse_name():
    assert parse_name("dataset-1_walk-back_not-confident_001") == ("walk-back", "not-confident")
    with pytest.raises(DatasetError, match="not a Bandai-Namco clip name"):
        parse_name("dataset-1_fly_happy_001")


def test_split_is_disjoint_complete_and_about_70_15_15(bandai):
    idx = [i for s in ("train", "val", "test") for i in bandai.splits[s]]
    assert sorted(idx) == list(range(174))
    n = {s: len(v) for s, v in bandai.splits.items()}
    assert n == {"train": 128, "val": 23, "test": 23}


def test_split_is_stratified_by_content(bandai):
    content = lambda ms: {m.labels["content"] for m in ms}
    train = content(bandai.split("train"))
    assert content(bandai.split("val")) <= train and content(bandai.split("test")) <= train
    assert {m.labels["style"] for m in bandai.split("train")} == set(CFG_STYLES)
    # Contents with fewer than 3 clips (normal style only) are all in train.
    counts = {}
    for m in bandai.motions:
        counts[m.labels["content"]] = counts.get(m.labels["content"], 0) + 1
    split_of = bandai.split_of()
    for m in bandai.motions:
        if counts[m.labels["content"]] < 3:
            assert split_of[m.name] == "train", m.name
    # Each 15-clip content gives 2 clips to val and 2 to test; walk (30 clips) 5 and 5.
    for s in ("val", "test"):
        per = {}
        for m in bandai.split(s):
            per[m.labels["content"]] = per.get(m.labels["content"], 0) + 1
        assert per.pop("walk") == 5 and set(per.values()) == {2}


def test_split_is_deterministic_and_order_free(bandai):
    names = [m.name for m in bandai.motions]
    contents = [m.labels["content"] for m in bandai.motions]
    np.random.seed(123)
    a = split_by_content(names, contents)
    np.random.seed(999)
    b = split_by_content(names, contents)
    assert a == b == bandai.splits
    order = np.random.default_rng(0).permutation(len(names))
    c = split_by_content([names[i] for i in order], [contents[i] for i in order])
    as_names = lambda sp, ns: {s: sorted(ns[i] for i in v) for s, v in sp.items()}
    assert as_names(c, [names[i] for i in order]) == as_names(a, names)
