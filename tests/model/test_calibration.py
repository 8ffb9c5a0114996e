import numpy as np
import pytest

from lavimo_core.model.calibration import Calibration, fit_calibration, fit_platt, youden_threshold


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
