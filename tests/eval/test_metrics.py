import numpy as np
import pytest

from lavimo_core.eval.metrics import batched_recall, first_hit_ranks, recall_metrics


def test_hand_checked_ranks_and_recalls():
    sim = np.array([[0.9, 0.1, 0.5, 0.3],     # own item (0) first          -> rank 1
                    [0.8, 0.2, 0.9, 0.1],     # own item 1 below 0 and 2   -> rank 3
                    [0.2, 0.3, 0.4, 0.1],     # own item 2 first           -> rank 1
                    [0.5, 0.6, 0.7, 0.1]])    # own item 3 last            -> rank 4
    ranks = first_hit_ranks(sim, np.eye(4, dtype=bool))
    assert ranks.tolist() == [1, 3, 1, 4]
    m = recall_metrics(ranks)
    assert m["R@1"] == 0.5 and m["R@2"] == 0.5 and m["R@3"] == 0.75 and m["R@5"] == 1.0
    assert m["MedR"] == 2.0 and m["n"] == 4


def test_label_relevance_takes_the_best_relevant_item():
    sim = np.array([[0.1, 0.9, 0.5],
                    [0.3, 0.2, 0.1]])
    rel = np.array([[True, True, False],      # item 1 shares the label and is first -> rank 1
                    [False, True, True]])     # item 0 (irrelevant) beats both       -> rank 2
    assert first_hit_ranks(sim, rel).tolist() == [1, 2]


def test_ties_count_against_the_model():
    sim = np.ones((3, 3))
    assert first_hit_ranks(sim, np.eye(3, dtype=bool)).tolist() == [3, 3, 3]


def test_bad_inputs():
    with pytest.raises(ValueError, match="no relevant"):
        first_hit_ranks(np.ones((2, 2)), np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="equal"):
        first_hit_ranks(np.ones((2, 3)), np.eye(2, dtype=bool))


def test_batches_of_32_are_easier_than_all():
    rng = np.random.default_rng(0)
    n = 200
    emb = rng.normal(size=(n, 8))
    sim = emb @ (emb + rng.normal(scale=1.5, size=(n, 8))).T
    rel = np.eye(n, dtype=bool)
    full = recall_metrics(first_hit_ranks(sim, rel))
    d = batched_recall(sim, rel, batch=32, repeats=50)
    assert d["batch_size"] == 32 and d["batches"] == 50
    assert d["R@1"] > full["R@1"] and d["MedR"] < full["MedR"]
    small = batched_recall(sim[:10, :10], rel[:10, :10])
    assert small["batches"] == 1 and small["R@1"] == recall_metrics(first_hit_ranks(sim[:10, :10], rel[:10, :10]))["R@1"]
