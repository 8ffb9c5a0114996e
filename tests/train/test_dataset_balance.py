"""Training on joined datasets: each dataset fills an equal share of the batches and weighs the same in the
validation score, and validation holds wording that training never uses — on the real Bandai-Namco 1 + 2 clips."""

import numpy as np
import pytest

from lavimo_core.data import bandai, bandai2
from lavimo_core.train.clips import prepare_clips
from lavimo_core.train.data import load_splits
from lavimo_core.train.loop import balance_weights, batch_indices
from lavimo_core.train.validation import Validator


@pytest.fixture(scope="module")
def joined():
    return load_splits("bandai-namco-1+bandai-namco-2-dev")


def test_each_dataset_fills_half_of_the_batches(joined):
    parts = [joined.part_of[m.name] for m in joined.train]
    counts = {p: parts.count(p) for p in set(parts)}
    assert counts["bandai-namco-1"] * 5 < counts["bandai-namco-2"]     # ten short takes to one long one
    weights = balance_weights(parts)
    drawn = [parts[i] for step in range(300) for i in batch_indices(step, len(parts), 32, 1, 0, 0, weights)]
    share = drawn.count("bandai-namco-1") / len(drawn)
    assert 0.45 < share < 0.55, share                                   # it was ~0.09 by clip count
    # No clip twice in a step, every clip of the smaller dataset seen, and a step is a pure function of it.
    step = batch_indices(7, len(parts), 32, 1, 0, 0, weights)
    assert len(set(step)) == 32 and step == batch_indices(7, len(parts), 32, 1, 0, 0, weights)
    seen = {i for s in range(300) for i in batch_indices(s, len(parts), 32, 1, 0, 0, weights)}
    assert all(i in seen for i, p in enumerate(parts) if p == "bandai-namco-1")
    # Two processes split a step's clips between them.
    assert sorted(batch_indices(7, len(parts), 16, 2, 0, 0, weights)
                  + batch_indices(7, len(parts), 16, 2, 1, 0, weights)) == sorted(step)


def test_one_dataset_keeps_its_epochs():
    assert balance_weights(["bandai-namco-1"] * 10) is None
    epoch = sorted(i for s in range(5) for i in batch_indices(s, 10, 2, 1, 0, 0))
    assert epoch == list(range(10))                                      # every clip once per epoch


def test_unseen_wording_is_never_trained_on_and_names_the_clips_side(joined):
    clips = prepare_clips(joined.train + joined.val, mirror=True)
    trained = {c for clip in clips for v in clip.views for c in v.captions + v.content_captions}
    unseen = {c for clip in clips for v in clip.views for c in v.unseen_captions}
    assert len(unseen) > 60 and not unseen & trained
    for mod in (bandai, bandai2):
        assert set(mod.UNSEEN_PHRASES) == set(mod.CONTENT_PHRASES)
        verbs = {v for vs in mod.CONTENT_PHRASES.values() for v in vs}
        assert not verbs & {v for vs in mod.UNSEEN_PHRASES.values() for v in vs}
    by_name = {c.name: c for c in clips}
    # A left-hand wave says "left", its mirror "right"; a bye whose side the joints do not show names none.
    left = by_name[next(m.name for m in joined.train if m.labels["content"] == "wave-left-hand")]
    assert any("left" in c for c in left.views[0].unseen_captions)
    assert all("left" not in c for c in left.views[1].unseen_captions)
    for clip in clips:
        if clip.views[0].labels.get("content") == "bye" and "side" not in clip.views[0].labels:
            assert not any("right" in c or "left" in c for c in clip.views[0].unseen_captions), clip.name


def test_validation_score_weighs_each_dataset_the_same(joined):
    from lavimo_core.model.config import preset
    from lavimo_core.model.text_backbone import TextBackbone, TokenFeatureCache
    from lavimo_core.train.clips import all_captions
    clips = prepare_clips(joined.val, mirror=False)
    cfg = preset("tiny")
    text = TokenFeatureCache(TextBackbone(cfg.model.text_model), all_captions(clips))
    parts = [joined.part_of[m.name] for m in joined.val]
    v = Validator(clips, text, cfg, use_video=False, parts=parts)
    assert v.has_unseen and all(u not in clips[i].views[0].captions for i, u in enumerate(v.unseen_captions))
    # 23 Bandai-1 queries at R@k 1.0 count as much as 290 Bandai-2 queries at R@k 0.
    perfect, zero = {"R@1": 1.0, "R@3": 1.0, "R@5": 1.0}, {"R@1": 0.0, "R@3": 0.0, "R@5": 0.0}
    metrics = {"t2m/content": {"R@1": 0.1, "R@3": 0.1, "R@5": 0.1},
               "t2m/content@bandai-namco-1": perfect, "t2m/content@bandai-namco-2": zero}
    assert v.score(metrics) == pytest.approx(0.5)
    assert Validator(clips, text, cfg, use_video=False).score({"a": perfect, "b": zero}) == pytest.approx(0.5)
    assert np.isclose(v.score({"t2m/content": perfect}), 1.0)
