"""Augmented batches on real Bandai-Namco clips: mirroring keeps words and labels true, crops stay in the
clip, positives follow the labels a caption names, and a batch is a pure function of its seed."""

import numpy as np
import pytest
import torch

from lavimo_core.model.config import preset
from lavimo_core.model.text_backbone import TokenFeatureCache
from lavimo_core.train.batching import BatchMaker
from lavimo_core.train.clips import all_captions, prepare_clips


@pytest.fixture(scope="module")
def clips():
    from lavimo_core.data import load_dataset
    ds = load_dataset("bandai-namco-1")
    names = ["dataset-1_walk-left_sad_001", "dataset-1_walk-right_sad_001", "dataset-1_bow_happy_001",
             "dataset-1_kick_normal_001", "dataset-1_walk_sad_001", "dataset-1_walk_happy_001"]
    by_name = {m.name: m for m in ds.motions}
    return prepare_clips([by_name[n] for n in names], mirror=True)


@pytest.fixture(scope="module")
def cache(clips):
    from lavimo_core.model.text_backbone import TextBackbone
    return TokenFeatureCache(TextBackbone("sentence-transformers/all-MiniLM-L6-v2"), all_captions(clips))


def test_mirrored_views_swap_sides_in_words_and_labels(clips):
    left = clips[0]
    assert left.views[0].labels == {"content": "walk-left", "style": "sad"}
    assert left.views[1].labels == {"content": "walk-right", "style": "sad"}
    assert all("left" in c for c in left.views[0].captions if "left" in c or "right" in c)
    assert any("to the right" in c for c in left.views[1].captions)
    assert all("left" not in c for c in left.views[1].content_captions)
    kick = clips[3].views[1]
    assert any("left leg" in c or "left foot" in c for c in kick.captions)   # "kicks high with the right leg"
    # The mirrored features are the features of the mirrored joints (x -> -x): sideways root speed flips.
    f0, f1 = left.views[0].features, left.views[1].features
    assert np.allclose(f1[:, 1], -f0[:, 1], atol=1e-5) and np.allclose(f1[:, 3], f0[:, 3], atol=1e-5)


def test_batches_are_seeded_and_crops_stay_inside(clips, cache):
    cfg = preset("bimodal")
    cfg.train.crop_min_frames, cfg.train.crop_max_frames = 20, 60
    maker = BatchMaker(clips, cache, cfg, use_video=False)
    a = maker.make(list(range(6)), np.random.default_rng(3))
    b = maker.make(list(range(6)), np.random.default_rng(3))
    assert torch.equal(a.motion, b.motion) and torch.equal(a.text, b.text)
    lengths = a.motion_mask.sum(1)
    assert ((lengths >= 20) & (lengths <= 60)).all()
    assert a.text_motion_pos.diagonal().all() and a.motion_motion_pos.diagonal().all()


def test_positives_follow_the_labels_a_caption_names(clips, cache):
    cfg = preset("bimodal")
    cfg.train.mirror_prob = 0.0
    cfg.train.content_only_prob = 1.0                      # every caption names only the content
    maker = BatchMaker(clips, cache, cfg, use_video=False)
    batch = maker.make([4, 5, 2], np.random.default_rng(0))  # walk/sad, walk/happy, bow/happy
    assert batch.text_motion_pos[0, 1] and batch.text_motion_pos[1, 0]      # "a person walks" fits both walks
    assert not batch.text_motion_pos[0, 2] and not batch.text_motion_pos[2, 0]
    assert not batch.motion_motion_pos[0, 1]                  # different styles: different motions
    cfg.train.content_only_prob = 0.0                       # captions name content and style
    batch = BatchMaker(clips, cache, cfg, use_video=False).make([4, 5, 2], np.random.default_rng(0))
    assert not batch.text_motion_pos[0, 1] and not batch.text_motion_pos[1, 0]


def test_video_views_are_aligned_with_the_motion_crop(clips, cache):
    cfg = preset("tiny")
    cfg.train.video_bank = 2
    cfg.train.frame_drop_prob = 0.0
    maker = BatchMaker(clips[:2], cache, cfg, use_video=True)
    for per_view in maker.bank:
        for entries in per_view:
            for _start, length, feats, present in entries:
                # 20 fps motion frames vs 10 fps video frames: half as many, give or take one.
                assert abs(feats.shape[0] - (length + 1) / 2) <= 1.5 and present.shape == (feats.shape[0],)
    batch = maker.make([0, 1], np.random.default_rng(0))
    assert batch.video.shape[0] == 2 and batch.video_present.any(1).all()
