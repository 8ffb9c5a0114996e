"""Spliced long takes from real Bandai clips: continuous, truthful segments, real features."""

import numpy as np
import pytest

from lavimo_core.eval.spliced import BLEND_FRAMES, load_clips, splice_joints, spliced_set


@pytest.fixture(scope="module")
def clips():
    return load_clips(per_content=3)


def test_every_content_has_real_clips(clips):
    assert set(clips) == {"walk", "run", "wave-both-hands", "raise-up-both-hands", "bow"}
    for ms in clips.values():
        assert len(ms) >= 2 and all(m.source.skeleton == "bandai-namco" for m in ms)


def test_clips_are_held_out_takes_of_both_datasets(clips):
    from lavimo_core.data import load_dataset

    # The default model trains on both datasets' train takes: a spliced take must hold none of them.
    train = {m.name for d in ("bandai-namco-1", "bandai-namco-2-dev") for m in load_dataset(d).split("train")}
    names = [m.name for ms in clips.values() for m in ms]
    assert names and not train & set(names)
    assert all(m.labels["content"] == c for c, ms in clips.items() for m in ms)


def test_segments_tile_the_take_in_order_with_distinct_actions(clips):
    for take in spliced_set(clips, takes=4, seed=3):
        segs = take.segments
        assert [s.content for s in segs] == list(dict.fromkeys(s.content for s in segs))  # distinct
        assert segs[0].start == 0 and segs[-1].end == pytest.approx(take.motion.duration)
        assert all(a.end == b.start for a, b in zip(segs, segs[1:], strict=False))
        assert all(s.duration >= 2.0 for s in segs)
        assert take.motion.features.shape == (take.motion.num_frames - 1, 263)


def test_splice_has_no_jump_at_the_seams(clips):
    parts = [clips["run"][0].joints, clips["bow"][0].joints, clips["walk"][0].joints]
    joints, starts = splice_joints(parts)
    assert len(joints) == sum(map(len, parts)) - 2 * BLEND_FRAMES
    step = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(axis=1)
    own = max(np.linalg.norm(np.diff(p, axis=0), axis=-1).max() for p in parts)
    for s in starts[1:]:
        assert step[s - BLEND_FRAMES:s + BLEND_FRAMES].max() <= own  # no faster than the clips themselves move
    # Away from the seams each clip is itself, only turned and moved: its pose (relative to the pelvis) is kept.
    bow = parts[1]
    inner = joints[starts[1] + BLEND_FRAMES:starts[2] - BLEND_FRAMES]
    ref = bow[BLEND_FRAMES + BLEND_FRAMES // 2:][:len(inner)]  # the clip starts blending at its frame 0
    dist = lambda j: np.linalg.norm(j - j[:, :1], axis=-1)  # noqa: E731
    assert np.allclose(dist(inner), dist(ref), atol=1e-4)
