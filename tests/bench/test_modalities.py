"""The tri- vs bi-modal bench on the larger data stays runnable (quick mode, real data, the tiny test model) and
measures the shipped model as seed 0's tri-modal side."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    import bench_modalities
    yield bench_modalities
    sys.path.remove(str(BENCH))


def test_quick_run_compares_every_query_set_per_seed_and_over_seeds(bench, trained_model):
    text = bench.run(quick=True, pairs={0: (trained_model, trained_model), 1: (trained_model, trained_model)})
    for what in ("free captions, bandai-namco-2 test", "free captions, bandai-namco-1 test",
                 "left/right pairs, side right per query", "template captions, content+style"):
        rows = [line for line in text.splitlines() if line.startswith(f"| {what}")]
        assert [r.split("|")[2].strip() for r in rows] == ["0", "1", "mean of 2"], what
        assert all("+0.0 [+0, +0]" in r for r in rows), rows    # one model on both sides: no difference
    assert "QUICK mode" in text


def test_a_seed_without_both_models_is_reported_not_measured(bench, trained_model):
    text = bench.run(quick=True, pairs={0: (trained_model, None)})
    assert "not measured: no seed has both models trained" in text and "bi-modal (not trained for this run)" in text


def test_seed_0_tri_modal_is_the_shipped_model(bench, monkeypatch, tmp_path):
    from lavimo_core.demo.shipped import shipped_model
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path))            # nothing trained: nothing is found
    monkeypatch.setenv("LAVIMO_BENCH_GEN_TRAINED_ONLY", "1")
    assert bench.default_pairs() == {0: (shipped_model(), None), 1: (None, None)}
