"""Exact top-k, filters, combined queries, exclusion, float16, calibrated scores, folding (model-free embeddings)."""

from __future__ import annotations

import numpy as np
import pytest

from lavimo_core.model.calibration import Calibration
from lavimo_core.motion.features import joints_to_features
from lavimo_core.motion.mirror import mirror_joints
from lavimo_core.motion.motion import Motion
from lavimo_core.store import Filters, QueryPart, Store, StoreError
from lavimo_core.store.scan import _half_scores_numpy, cosine_scores, top_k


def brute_force(store, q, mask=None):
    s = store.rows().emb.astype(np.float32) @ (q / np.linalg.norm(q))
    order = [i for i in np.argsort(-s, kind="stable") if mask is None or mask[i]]
    return [store.ids()[i] for i in order], s


def test_top_k_function_matches_argsort():
    rng = np.random.default_rng(1)
    s = rng.standard_normal(5000).astype(np.float32)
    np.testing.assert_array_equal(top_k(s, 7), np.argsort(-s)[:7])
    mask = s < 0
    got = top_k(s, 10, mask)
    assert mask[got].all() and list(got) == [i for i in np.argsort(-s) if mask[i]][:10]
    assert len(top_k(s[:3], 10)) == 3 and len(top_k(s, 5, np.zeros(5000, bool))) == 0


def test_self_query_is_top_hit_and_ranking_is_exact(make_store, bandai_motions):
    store = make_store()
    target = bandai_motions[7].name
    q = store.embedding(target)
    hits = store.search(q, "motion", k=10, fold=False)
    assert hits[0].motion_id == target and hits[0].score == pytest.approx(1.0, abs=1e-5)
    order, s = brute_force(store, q)
    assert [h.motion_id for h in hits] == order[:10]
    assert [h.score for h in hits] == pytest.approx([float(s[store.ids().index(i)]) for i in order[:10]], abs=1e-5)
    h = hits[0]
    assert h.labels == bandai_motions[7].labels and h.source.endswith(".bvh") and h.duration > 1


def test_filters(make_store, bandai_motions):
    store = make_store()
    q = store.embedding(bandai_motions[0].name)
    durs = {m.name: m.duration for m in bandai_motions}
    hits = store.search(q, k=50, filters=Filters(min_duration=3.0, max_duration=6.0), fold=False)
    expected = [m.name for m in bandai_motions if 3.0 <= m.duration <= 6.0]
    assert sorted(h.motion_id for h in hits) == sorted(expected) and all(3.0 <= durs[h.motion_id] <= 6.0 for h in hits)
    content = bandai_motions[10].labels["content"]
    hits = store.search(q, k=50, filters=Filters(labels={"content": content.upper()}), fold=False)
    assert {h.motion_id for h in hits} == {m.name for m in bandai_motions if m.labels["content"] == content}
    hits = store.search(q, k=50, filters=Filters(labels={"": "happy"}), fold=False)  # any label key
    assert hits and all("happy" in h.labels.values() for h in hits)
    hits = store.search(q, k=50, filters=Filters(source=f"{content}_"), fold=False)
    assert hits and all(f"{content}_" in h.source for h in hits)
    assert store.search(q, k=5, filters=Filters(labels={"content": "no-such-label"})) == []


def test_combined_query_is_weighted_mean_of_cosines(make_store, bandai_motions):
    store = make_store()
    a, b = store.embedding(bandai_motions[2].name), store.embedding(bandai_motions[20].name)
    hits = store.search_combined([QueryPart(a, "text", 0.75), QueryPart(b, "video", 0.25)], k=35, fold=False)
    emb = store.rows().emb
    want = 0.75 * (emb @ a) + 0.25 * (emb @ b)
    got = {h.motion_id: h.score for h in hits}
    for i, mid in enumerate(store.ids()):
        assert got[mid] == pytest.approx(float(want[i]), abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_exclude_drops_the_query_motion(make_store, bandai_motions):
    store = make_store()
    mid = bandai_motions[4].name
    hits = store.search(store.embedding(mid), "motion", k=5, exclude=[mid])
    assert mid not in [h.motion_id for h in hits] and len(hits) == 5


def test_float16_store_ranks_like_float32(make_store, bandai_motions):
    s32, s16 = make_store(name="a"), make_store(name="b", dtype="float16")
    for m in bandai_motions[::7]:
        q = s32.embedding(m.name)
        h32, h16 = s32.search(q, k=5, fold=False), s16.search(q, k=5, fold=False)
        assert [h.score for h in h16] == pytest.approx([h.score for h in h32], abs=2e-3)
        assert h16[0].motion_id == h32[0].motion_id == m.name


def test_half_precision_fallback_without_torch_agrees(make_store):
    store = make_store(dtype="float16")
    q = store.embedding(store.ids()[0])
    np.testing.assert_allclose(_half_scores_numpy(store.rows().emb, q), store.rows().emb.astype(np.float32) @ q, atol=1e-5)
    np.testing.assert_allclose(cosine_scores(store.rows().emb, q), store.rows().emb.astype(np.float32) @ q, atol=2e-3)


def test_bad_queries(make_store):
    store = make_store()
    q = store.embedding(store.ids()[0])
    with pytest.raises(StoreError, match="uses 526"):
        store.search(q[:10])
    with pytest.raises(StoreError, match="unknown query kind"):
        store.search(q, kind="audio")
    with pytest.raises(StoreError, match="zero"):
        store.search(np.zeros_like(q))
    with pytest.raises(StoreError, match="weights must be positive"):
        store.search_combined([QueryPart(q, "text", 0.0)])
    with pytest.raises(StoreError, match="k must be"):
        store.search(q, k=0)


def test_scores_without_model_and_with_calibration(make_store, bandai_motions):
    store = make_store()
    q = store.embedding(bandai_motions[0].name)
    hit = store.search(q, k=1)[0]
    assert hit.probability is None and hit.is_match and hit.to_dict()["probability"] is None
    store.calibration = Calibration(platt={"text": (10.0, -5.0), "video": (4.0, -1.0)},
                                    no_match_below={"text": 0.5, "video": 0.9})
    hits = store.search(q, "text", k=35, fold=False)
    for h in hits:
        assert h.probability == pytest.approx(1 / (1 + np.exp(-(10 * h.score - 5))))
        assert h.is_match == (h.score >= 0.5)
    assert hits[0].is_match and not hits[-1].is_match
    mix = store.search_combined([QueryPart(q, "text", 3.0), QueryPart(q, "video", 1.0)], k=3, fold=False)
    for h in mix:
        p = 0.75 / (1 + np.exp(-(10 * h.score - 5))) + 0.25 / (1 + np.exp(-(4 * h.score - 1)))
        assert h.probability == pytest.approx(p) and h.is_match == (h.score >= 0.75 * 0.5 + 0.25 * 0.9)


# ---------------------------------------------------------------- folding

def _mirror_copy(m: Motion) -> Motion:
    j = mirror_joints(m.joints)
    return Motion(m.name + "_mirrored", j, captions=m.captions, labels=m.labels, source=m.source,
                  features=joints_to_features(j))


def _crop(m: Motion, a: int, b: int) -> Motion:
    return Motion(m.name + "_crop", m.joints[a:b], captions=m.captions, labels=m.labels, source=m.source,
                  features=joints_to_features(m.joints[a:b]))


@pytest.fixture
def store_with_twins(tmp_path, bandai_motions, stats):
    """All fixture clips, plus the mirror image of every third clip and a slightly trimmed take of clip 1."""
    extra = [_mirror_copy(m) for m in bandai_motions[::3]] + [_crop(bandai_motions[1], 1, -1)]
    motions = bandai_motions + extra
    store = Store.create(tmp_path / "twins", stats.identity)
    emb, mir = stats.embed(motions)
    store.add(motions, embeddings=emb, mirror_embeddings=mir)
    return store


def test_mirror_and_near_duplicate_are_folded(store_with_twins, bandai_motions):
    store = store_with_twins
    original = bandai_motions[3]
    hits = store.search(store.embedding(original.name), "motion", k=5)
    assert hits[0].motion_id == original.name
    folded = {h.motion_id: h.relation for h in hits[0].folded}
    assert folded.get(original.name + "_mirrored") == "mirror"
    shown = [h.motion_id for h in hits]
    assert len(shown) == 5 and original.name + "_mirrored" not in shown
    everything = store.search(store.embedding(original.name), "motion", k=len(store))
    assert original.name + "_mirrored" not in [h.motion_id for h in everything]
    unfolded = store.search(store.embedding(original.name), "motion", k=len(store), fold=False)
    assert original.name + "_mirrored" in [h.motion_id for h in unfolded]

    take = bandai_motions[1]
    hits = store.search(store.embedding(take.name), "motion", k=5)
    assert hits[0].motion_id == take.name
    assert {h.motion_id: h.relation for h in hits[0].folded}.get(take.name + "_crop") == "near-duplicate"


def test_folding_still_returns_k_heads_and_no_two_heads_are_twins(store_with_twins):
    store = store_with_twins
    for mid in store.ids()[::6]:
        hits = store.search(store.embedding(mid), "motion", k=10)
        assert len(hits) == 10
        heads = [h.motion_id for h in hits]
        for h in heads:
            twin = h[:-len("_mirrored")] if h.endswith("_mirrored") else h + "_mirrored"
            assert twin not in heads


def test_find_similar_hides_the_querys_own_mirror(store_with_twins, bandai_motions):
    store = store_with_twins
    mid = bandai_motions[0].name
    hits = store.search(store.embedding(mid), "motion", k=5, exclude=[mid])
    ids = [h.motion_id for h in hits] + [f.motion_id for h in hits for f in h.folded]
    assert mid not in ids and mid + "_mirrored" not in ids


def test_half_precision_scan_split_over_threads_is_exact(make_store):
    # More rows than one thread-pool task, so the parallel split (and its row offsets) is exercised.
    store = make_store()
    rng = np.random.default_rng(0)
    n = 70_000  # just over one task: two tasks, the second with an offset
    big = np.tile(store.rows().emb, (n // len(store) + 1, 1))[:n]
    big = big + rng.standard_normal(big.shape, dtype=np.float32) * np.float32(0.01)
    big = (big / np.linalg.norm(big, axis=1, keepdims=True)).astype(np.float16)
    q = store.embedding(store.ids()[5])
    np.testing.assert_allclose(cosine_scores(big, q), big.astype(np.float32) @ q, atol=2e-3)
    assert top_k(cosine_scores(big, q), 1)[0] == top_k(big.astype(np.float32) @ q, 1)[0]
