"""The "no good match" state with the real tiny model on the Bandai-Namco store: a query whose action is missing
from the library is flagged (its best hit is below the model's no-match threshold) far more often than one whose
action is there. The library is the test split of the store (clips the model never saw, like the validation clips
the threshold was fitted on); the action is made missing by excluding every clip of it and of its variants (its
content family: walk, walk-back, walk-left, ...) from the search, as the threshold's "absent" is defined."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lavimo_core.data import load_dataset
from lavimo_core.data.bandai import captions_for
from lavimo_core.model.calibration import content_family
from lavimo_core.store import Store


def _flagged(store, query, kind, exclude) -> bool:
    return not store.search(query, kind, k=1, exclude=exclude)[0].is_match


def _rates(store, queries, outside: list[str]) -> tuple[float, float]:
    """(flag rate with the action present, flag rate with every clip of its content family excluded too)."""
    family = {i: content_family(store.record(i).labels["content"]) for i in store.ids()}
    present, absent = [], []
    for q, kind, c, itself in queries:
        present.append(_flagged(store, q, kind, outside + itself))
        absent.append(_flagged(store, q, kind, outside + [i for i in store.ids() if family[i] == content_family(c)]))
    return float(np.mean(present)), float(np.mean(absent))


@pytest.mark.slow
def test_queries_for_absent_actions_are_flagged_far_more_often(embedder, store):
    from lavimo_core.synthesis.projected import motion_to_video_features
    from lavimo_core.synthesis.render import random_camera
    split = load_dataset("bandai-namco-1").split_of()
    ids = [i for i in store.ids() if split.get(store.record(i).name) == "test"]
    outside = [i for i in store.ids() if i not in set(ids)]
    assert len(ids) >= 20
    contents = sorted({store.record(i).labels["content"] for i in ids})
    assert len(contents) >= 8
    texts = [(t, c) for c in contents for t in captions_for(c)]
    text_q = [(e, "text", c, []) for e, (_, c) in zip(embedder.embed_text([t for t, _ in texts]), texts)]
    # Motion and video queries: the library's own clips; a motion query never finds itself.
    motions = [store.motion(i) for i in ids]
    rng = np.random.default_rng(0)
    videos = [motion_to_video_features(m, random_camera(rng), rng) for m in motions]
    labels = [m.labels["content"] for m in motions]
    motion_q = [(e, "motion", c, [i]) for e, c, i in zip(embedder.embed_motion(motions), labels, ids)]
    video_q = [(e, "video", c, []) for e, c in zip(embedder.embed_video(videos), labels)]
    rates = {kind: _rates(store, q, outside) for kind, q in (("text", text_q), ("motion", motion_q), ("video", video_q))}
    print("flag rate (present, absent):", {k: tuple(round(x, 2) for x in v) for k, v in rates.items()})
    # Before the threshold was fitted on top-1 cosines: text (0.00, 0.16), motion (0.04, 0.04), video (0.00, 0.00).
    for kind, (present, absent) in rates.items():
        assert absent >= present + 0.25, (kind, rates[kind])
    assert np.mean([a - p for p, a in rates.values()]) >= 0.3, rates


def test_library_probability_agrees_with_the_flag(embedder, store):
    cal = embedder.calibration
    for kind in ("text", "video", "motion"):
        t = cal.no_match_below[kind]
        assert cal.fitted_on[kind]["top1_present"] > 0 and cal.fitted_on[kind]["top1_absent"] > 0
        p = cal.library_probability(kind, np.array([t - 0.01, t + 0.01]))
        assert p[0] < 0.5 < p[1]
    q = embedder.embed_text(["a person bows"])[0]
    hit = store.search(q, "text", k=1)[0]
    assert hit.is_match == (cal.library_probability("text", hit.score) >= 0.5)


def test_old_checkpoint_without_top1_calibration_behaves_as_before(trained_model, built_store, tmp_path):
    """A checkpoint written before the top-1 calibration loads, keeps its threshold and has no library P."""
    from lavimo_core.model.embedder import Embedder
    old = tmp_path / "old"
    shutil.copytree(trained_model, old)
    meta = json.loads((old / "checkpoint.json").read_text())
    meta["calibration"] = {"platt": {k: [10.0, -5.0] for k in ("text", "video", "motion")},
                           "no_match_below": {"text": 0.3, "video": 0.2, "motion": 0.1},
                           "fitted_on": {k: {"pairs": 100, "matches": 10} for k in ("text", "video", "motion")}}
    (old / "checkpoint.json").write_text(json.dumps(meta))
    emb = Embedder.from_checkpoint(old)
    assert emb.calibration.no_match_below == {"text": 0.3, "video": 0.2, "motion": 0.1}
    with pytest.raises(KeyError, match="library"):
        emb.calibration.library_probability("text", 0.5)
    store = Store.open(built_store, emb)
    for h in store.search(emb.embed_text(["a person bows"])[0], "text", k=5, fold=False):
        assert h.is_match == (h.score >= 0.3)
        assert h.probability == pytest.approx(1 / (1 + np.exp(-(10 * h.score - 5))))
