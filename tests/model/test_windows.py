import numpy as np

from lavimo_core.model.windows import average_windows, split_windows


def test_short_sequences_stay_whole_and_long_ones_overlap_by_half():
    a, b = np.arange(50)[:, None], np.arange(250)[:, None]
    pieces, owner = split_windows([a, b], 100)
    assert owner.tolist() == [0, 1, 1, 1, 1]
    assert pieces[0] is a or np.array_equal(pieces[0], a)
    assert [(int(p[0, 0]), len(p)) for p in pieces[1:]] == [(0, 100), (50, 100), (100, 100), (150, 100)]


def test_average_is_renormalised_per_item():
    e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
    out = average_windows(e, np.array([0, 1, 1]), 2)
    assert np.allclose(out, [[1, 0], [np.sqrt(0.5), np.sqrt(0.5)]])
    assert average_windows(e, np.array([0, 1, 2]), 3) is e
