"""Moment search functions: windows, merging, refinement, range checks; and the result on real spliced takes."""

import numpy as np
import pytest

from lavimo_core.store.moments import (
    Moment,
    MomentError,
    moments,
    refine,
    temporal_iou,
    window_lengths,
    window_spans,
)


def test_windows_cover_the_motion_at_each_trained_length():
    lengths = window_lengths(40, 80)
    assert lengths == (40, 60, 80)
    spans = window_spans(200, lengths)
    for length in lengths:
        mine = spans[spans[:, 1] - spans[:, 0] == length]
        assert mine[0, 0] == 0 and mine[-1, 1] == 200 and np.diff(mine[:, 0]).max() <= length // 4
    assert window_spans(50, lengths).tolist() == [[0, 40], [10, 50]]  # only 40-frame windows fit


def test_a_take_shorter_than_one_window_is_refused_with_its_length():
    with pytest.raises(MomentError, match=r"30 frames \(1.50 s\) is shorter than one window \(40 frames"):
        window_spans(30, (40, 60, 80))


def test_agreeing_neighbours_merge_and_the_rest_is_a_separate_moment():
    spans = np.array([(0, 40), (10, 50), (20, 60), (30, 70), (100, 140), (200, 240)])
    scores = np.array([0.9, 0.89, 0.5, 0.1, 0.1, 0.7])
    got = moments(spans, scores, row=7, limit=3)
    assert got[0] == Moment(7, 0, 50, 0.9, 0)  # (10, 50) agrees; (20, 60) at 0.5 does not
    assert (got[1].start, got[1].end) == (200, 240)
    assert all(not (a.start < b.end and b.start < a.end) for a in got for b in got if a is not b)


def test_refine_moves_boundaries_towards_a_better_span():
    truth = (30, 90)

    def score(spans):  # IoU with the truth, as a perfect model would score it
        return np.array([temporal_iou(tuple(s), truth) for s in spans])

    out = refine(Moment(0, 0, 80, score(np.array([(0, 80)]))[0]), 200, score, min_frames=20)
    assert temporal_iou((out.start, out.end), truth) > 0.9 and out.score >= 0.9


@pytest.mark.slow
def test_moments_find_the_action_in_spliced_real_takes(trained_model):
    from lavimo_core.eval.moments import evaluate_moments
    from lavimo_core.eval.spliced import load_clips, spliced_set
    from lavimo_core.model.embedder import Embedder

    takes = spliced_set(load_clips(per_content=4), takes=6, seed=0)
    res = evaluate_moments(Embedder.from_checkpoint(trained_model), takes)
    within = res["within take"]
    assert within["whole"]["R@1 IoU>=0.5"] == 0  # a 4-action take is never a single action's range
    assert within["windows"]["R@1 IoU>=0.5"] >= 0.6  # tiny model; 0.8 on 20 takes (bench/bench_moments.py)
    assert within["windows"]["mIoU"] > within["whole"]["mIoU"] + 0.2
    assert res["corpus"]["windows"]["R@1 IoU>=0.5"] > res["corpus"]["whole"]["R@1 IoU>=0.5"]


def test_best_per_motion_and_its_moment_use_only_that_motions_windows():
    from lavimo_core.store.moments import best_per_motion, motion_moment
    offsets = np.array([0, 3, 3, 5])  # motion 1 has no windows (a short clip)
    spans = np.array([(0, 40), (10, 50), (20, 60), (0, 40), (40, 80)])
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.4], dtype=np.float32)
    best = best_per_motion(scores, offsets)
    assert best[0] == np.float32(0.3) and best[1] == -np.inf and best[2] == np.float32(0.9)
    m = motion_moment(scores, offsets, spans, 2)
    assert (m.row, m.start, m.end, m.window) == (2, 0, 40, 3)
