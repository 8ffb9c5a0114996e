import numpy as np
import pytest

from lavimo_core.model.calibration import Calibration, fit_calibration, fit_platt, top1_present_absent, youden_threshold


def test_youden_threshold_hand_checked():
    cos = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    match = np.array([1, 1, 0, 1, 0, 0, 0], bool)
    # t=0.8: TPR 2/3, FPR 0 -> 0.667; t=0.6: TPR 1, FPR 1/4 -> 0.75 (the best); t=0.3: 1 - 1 = 0.
    assert youden_threshold(cos, match) == pytest.approx(0.6)
    assert youden_threshold(np.array([0.9, 0.1]), np.array([True, False])) == pytest.approx(0.9)


def test_platt_is_monotone_and_matches_rates():
    rng = np.random.default_rng(0)
    cos = rng.uniform(-1, 1, 20000)
    true_p = 1 / (1 + np.exp(-(6 * cos - 2)))
    match = rng.uniform(size=cos.size) < true_p
    a, b = fit_platt(cos, match)
    assert a == pytest.approx(6, rel=0.1) and b == pytest.approx(-2, rel=0.15)
    cal = fit_calibration({"text": (cos, match)})
    p = cal.probability("text", np.linspace(-1, 1, 50))
    assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1
    again = Calibration.from_dict(cal.to_dict())
    assert np.allclose(again.probability("text", cos[:10]), cal.probability("text", cos[:10]))
    with pytest.raises(KeyError, match="video"):
        cal.probability("video", cos)


def test_platt_never_decreasing_even_on_inverted_data():
    cos = np.array([0.9, 0.8, 0.2, 0.1])
    a, _ = fit_platt(cos, np.array([False, False, True, True]))
    assert a == 0.0
    with pytest.raises(ValueError):
        fit_platt(cos, np.zeros(4, bool))


def test_top1_present_and_absent_from_a_small_gallery():
    # 3 queries x 4 clips. Query 0 matches clip 0; clips 0-1 share its content (related).
    cos = np.array([[0.9, 0.8, 0.3, 0.2],
                    [0.1, 0.7, 0.6, 0.5],
                    [0.4, 0.3, 0.2, 0.95]])
    match = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]], bool)
    related = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1]], bool)
    visible = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 0]], bool)  # query 2 is clip 3 itself
    present, absent = top1_present_absent(cos, match, related, visible)
    # Query 1 has no match: absent only. Query 2: present = best visible (0.4, not itself), absent = best of 0-1.
    assert present.tolist() == [0.9, 0.4] and absent.tolist() == [0.3, 0.7, 0.4]


def test_no_match_threshold_is_fitted_on_top1_cosines():
    rng = np.random.default_rng(0)
    # Pairs: matches ~0.6, non-matches ~0.1, so the pairwise Youden threshold sits low (~0.35) ...
    pair_cos = np.r_[rng.normal(0.6, 0.1, 200), rng.normal(0.1, 0.12, 2000)]
    pair_match = np.r_[np.ones(200, bool), np.zeros(2000, bool)]
    # ... but the best hit of a query whose action is absent is the best of many non-matches: ~0.5.
    present, absent = rng.normal(0.75, 0.05, 300), rng.normal(0.5, 0.05, 100)
    cal = fit_calibration({"text": (pair_cos, pair_match)}, {"text": (present, absent)})
    t = cal.no_match_below["text"]
    pairwise = fit_calibration({"text": (pair_cos, pair_match)}).no_match_below["text"]
    assert np.mean(absent < pairwise) < 0.05  # the old threshold flags almost no absent query
    assert 0.58 < t < 0.67 and np.mean(absent < t) > 0.9 and np.mean(present < t) < 0.1
    # The flag and P(library has a match) agree: 1/2 at the threshold; even odds whatever the sample counts.
    assert cal.library_probability("text", t) == pytest.approx(0.5)
    assert cal.library_probability("text", 0.75) > 0.9 and cal.library_probability("text", 0.5) < 0.1
    assert cal.fitted_on["text"] == {"pairs": 2200, "matches": 200, "top1_present": 300, "top1_absent": 100}
    again = Calibration.from_dict(cal.to_dict())
    assert again.no_match_below == cal.no_match_below and again.library_platt == cal.library_platt
    # Without absent samples (or none at all for a kind) the threshold stays the pairwise one.
    legacy = fit_calibration({"text": (pair_cos, pair_match)}, {"text": (present, np.empty(0))})
    assert legacy.no_match_below["text"] == youden_threshold(pair_cos, pair_match) and not legacy.library_platt


def test_checkpoint_dict_without_top1_fields_loads_as_before():
    old = {"platt": {"text": [12.0, -7.0]}, "no_match_below": {"text": 0.42},
           "fitted_on": {"text": {"pairs": 10, "matches": 2}}}
    cal = Calibration.from_dict(old)
    assert cal.no_match_below == {"text": 0.42} and cal.library_platt == {}
    assert cal.probability("text", 0.5) == pytest.approx(1 / (1 + np.exp(-(12 * 0.5 - 7))))
    with pytest.raises(KeyError, match="library"):
        cal.library_probability("text", 0.5)


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_wording_bank_round_trips_through_json_and_decides_known_wording():
    import json

    from lavimo_core.model.known_wording import known_unknown
    rng = np.random.default_rng(0)
    bank = _unit(rng.normal(size=(50, 16))).astype(np.float32)
    families = [frozenset({"walk" if i < 25 else "wave"}) for i in range(50)]
    queries = _unit(bank[:40] + 0.3 * rng.normal(size=(40, 16)) / 4)  # paraphrases of bank captions
    known, unknown = known_unknown(queries, ["walk" if i < 25 else "wave" for i in range(40)], bank, families)
    assert np.all(known >= unknown) and known.mean() > unknown.mean() + 0.2
    cal = fit_calibration({"text": (np.r_[0.9, 0.1], np.r_[True, False])}, wording=(bank, known, unknown))
    assert unknown.mean() < cal.wording_below < known.mean()
    again = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again.wording_below == pytest.approx(cal.wording_below)
    assert np.allclose(again.wording_bank, bank, atol=1e-3)  # stored as float16
    assert again.knows_wording(queries[0]) and cal.knows_wording(queries[0])
    stranger = _unit(rng.normal(size=16))
    assert again.wording_probability(stranger) == pytest.approx(cal.wording_probability(stranger), abs=1e-3)
    # Checkpoints without a bank know every wording and have no wording probability.
    old = Calibration.from_dict({k: v for k, v in cal.to_dict().items() if k != "wording"})
    assert old.wording_bank is None and old.knows_wording(stranger) and old.wording_probability(stranger) is None


def test_a_damaged_wording_bank_is_refused():
    cal = fit_calibration({"text": (np.r_[0.9, 0.1], np.r_[True, False])},
                          wording=(np.eye(4, dtype=np.float32), np.r_[0.9, 0.8], np.r_[0.2, 0.3]))
    from lavimo_core.model.errors import CheckpointError
    data = cal.to_dict()
    data["wording"]["shape"] = [5, 4]
    with pytest.raises(CheckpointError, match="wording bank has 32 bytes for shape \\(5, 4\\).*lavimo recalibrate"):
        Calibration.from_dict(data)
    data = cal.to_dict()
    data["wording"]["float16_base64"] = "not base64!"
    with pytest.raises(CheckpointError, match="wording bank is damaged.*lavimo recalibrate"):
        Calibration.from_dict(data)
    data = cal.to_dict()
    del data["wording"]["platt"]
    with pytest.raises(CheckpointError, match="wording bank is damaged"):
        Calibration.from_dict(data)


def test_thinning_keeps_every_region_of_the_bank():
    from lavimo_core.model.known_wording import nearest_caption, thin
    rng = np.random.default_rng(1)
    centres = _unit(rng.normal(size=(8, 32)))
    x = _unit(np.repeat(centres, 100, axis=0) + 0.05 * rng.normal(size=(800, 32))).astype(np.float32)
    keep = thin(x, 64)
    assert len(keep) == 64 and np.all(np.diff(keep) > 0)
    assert nearest_caption(centres, x[keep]).min() > 0.95  # each cluster still has captions in the bank
    assert np.array_equal(thin(x[:10], 64), np.arange(10))
