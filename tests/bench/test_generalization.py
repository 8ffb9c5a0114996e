"""The generalization bench stays runnable (quick mode, real data, the tiny test model), and its query
material stays frozen."""

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
# Recorded when the material was written (before any measurement); a change means it was tuned.
FROZEN_SHA256 = "cc4fd7ca034cfe585c1e67fb30cc66331a66125d17a40e54de9aba30390b1c7c"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    import bench_generalization
    yield bench_generalization
    sys.path.remove(str(BENCH))


def test_query_material_is_frozen_and_large_enough(bench):
    assert hashlib.sha256(bench.QUERIES_FILE.read_bytes()).hexdigest() == FROZEN_SHA256
    q = bench.load_queries()
    assert sum(len(v) for v in q["free_captions"].values()) >= 60
    assert set(q["free_captions"]) == set(q["actions"])
    for pair in q["left_right_pairs"]:
        assert "left" in pair["left"] and "right" in pair["right"]
        assert pair["left"].replace("left", "right") == pair["right"]


def test_free_captions_are_not_the_training_templates(bench):
    from lavimo_core.data import bandai, bandai2
    templates = {c for mod in (bandai, bandai2) for c in mod.CONTENT_PHRASES for c in mod.captions_for(c)}
    phrases = {p for mod in (bandai, bandai2) for ps in mod.CONTENT_PHRASES.values() for p in ps}
    for texts in bench.load_queries()["free_captions"].values():
        for t in texts:
            assert t not in templates and not any(t.endswith(" " + p) for p in phrases), t



def test_validation_wording_is_not_the_bench_queries(bench):
    """Validation picks the checkpoint and fits "no good match" on the unseen wording: it must not be the bench's
    free captions or absent-action queries, or those with another subject (frozen sentence embeddings >= 0.95)."""
    import torch

    from lavimo_core.data import bandai, bandai2
    from lavimo_core.data.captions import unseen_captions
    from lavimo_core.model.text_backbone import TextBackbone, TokenFeatureCache
    q = bench.load_queries()
    queries = [t for ts in q["free_captions"].values() for t in ts] + q["absent_text"]["unknown_actions"] + [
        t for ts in q["absent_text"]["missing_from_bandai-namco-2"].values() for t in ts]
    wording = sorted({c for mod in (bandai, bandai2) for ps in mod.UNSEEN_PHRASES.values() for c in unseen_captions(ps)})
    assert not set(wording) & set(queries)
    cache = TokenFeatureCache(TextBackbone("sentence-transformers/all-MiniLM-L6-v2"), wording + queries)
    s = cache.sentence_embeddings()
    sim = torch.stack([s[w] for w in wording]) @ torch.stack([s[t] for t in queries]).T
    i, j = divmod(int(sim.argmax()), sim.shape[1])
    assert float(sim.max()) < 0.95, (wording[i], queries[j], float(sim.max()))

def test_bootstrap_interval_brackets_the_mean(bench):
    hits = np.r_[np.ones(30), np.zeros(10)]
    lo, hi = bench.bootstrap_interval(hits)
    assert lo < 0.75 < hi and 0.55 < lo and hi < 0.9
    assert bench.paired_difference(hits, hits) == (0.0, 0.0, 0.0)


def test_quick_run_measures_every_part(bench, trained_model):
    models = bench.Models(trained_model, trained_model, trained_model, "tiny (test)", trained_model, trained_model)
    text = bench.run(quick=True, models=models)
    for part in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)"):
        assert f"**{part}" in text
    assert "| mean of 2 |" in text.split("**(f)")[1]       # (f) per seed and over both seeds
    assert "QUICK mode" in text and "n/a |" not in text.split("**(a)")[0]


def test_the_shipped_model_joins_the_measured_roles_when_present(bench):
    base = (("on_b1", "a"), ("on_b2", "b"))
    assert bench._roles({"on_b1": 1, "on_b2": 2}, *base) == list(base)
    assert bench._roles({"on_b1": 1, "on_b2": 2, "shipped": 3}, *base)[-1] == ("shipped", bench.SHIPPED_LABEL)


def test_a_seed_other_than_0_gets_its_own_cached_model(bench):
    import generalization_models as gm
    key = gm.model_key("recipe", "bandai-namco-1", False)
    assert key == gm.model_key("recipe", "bandai-namco-1", False, seed=0)      # seed-0 models keep their cache
    seed1 = gm.model_key("recipe", "bandai-namco-1", False, seed=1)
    assert seed1 != key and seed1 != gm.model_key("recipe", "bandai-namco-1", True, seed=1)
