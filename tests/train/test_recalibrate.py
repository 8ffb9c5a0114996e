"""Refitting a checkpoint's calibration (train/calibrate.py) and what "absent" means when it is fitted, on the
tiny model trained on real Bandai-Namco-1 data."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lavimo_core.model.calibration import content_family, related_contents


def test_variants_of_an_action_are_one_family():
    labels = [{"content": c} for c in ("walk", "walk-turn-left", "walk-back", "wave-both-hands", "wave-left-hand",
                                      "run", "dash", "bye", "byebye")] + [{}]
    rel = related_contents(labels)
    assert content_family("raise-up-right-hand") == "raise" and content_family("bow") == "bow"
    assert rel[0, 1] and rel[0, 2] and rel[3, 4] and not rel[0, 3]
    assert not rel[5, 6] and not rel[7, 8]     # different actions stay apart, even when alike
    assert not rel[9, :9].any() and rel[9, 9]  # a clip without a content is related only to itself


def test_absent_samples_leave_out_every_variant_of_the_query_action(trained_model):
    """A query's "absent" top-1 is taken over clips of other actions only: with the plain walks removed, the
    walks that turn or go back are near matches, not a missing action (they raised the text threshold from
    0.677 to 0.728 on the shipped model and flagged a third of free-worded queries for held actions)."""
    from lavimo_core.model.checkpoint import load_checkpoint
    from lavimo_core.model.text_backbone import TextBackbone, TokenFeatureCache
    from lavimo_core.train.clips import all_captions, prepare_clips
    from lavimo_core.train.data import load_splits
    from lavimo_core.train.validation import Validator

    model, cfg, _ = load_checkpoint(trained_model)
    data = load_splits(cfg.train.dataset)
    clips = prepare_clips(data.val, mirror=False)
    text = TokenFeatureCache(TextBackbone(cfg.model.text_model), all_captions(clips))
    v = Validator(clips, text, cfg, cfg.model.use_video)
    family = np.array([content_family(c.views[0].labels["content"]) for c in clips])
    walks = np.flatnonzero(family == "walk")
    assert len({clips[i].views[0].labels["content"] for i in walks}) >= 2   # the split has walk variants
    for kind, (_, match, related, _) in v._similarities(model).items():
        for q in range(len(match)):
            if match[q].any():
                fam = family[np.flatnonzero(match[q])[0]]
                assert related[q][family == fam].all(), (kind, q, fam)


def test_recalibrate_writes_what_training_fitted(trained_model, tmp_path):
    from lavimo_core.cli import main
    from lavimo_core.model.calibration import Calibration

    ckpt = shutil.copytree(trained_model, tmp_path / "ckpt")
    meta = json.loads((ckpt / "checkpoint.json").read_text())
    trained = Calibration.from_dict(meta["calibration"])
    meta["calibration"]["no_match_below"] = {"text": 0.99, "video": 0.99, "motion": 0.99}
    (ckpt / "checkpoint.json").write_text(json.dumps(meta))
    assert main(["recalibrate", str(ckpt)]) == 0
    after = json.loads((ckpt / "checkpoint.json").read_text())
    refit = Calibration.from_dict(after["calibration"])
    for kind, t in trained.no_match_below.items():
        assert refit.no_match_below[kind] == pytest.approx(t, abs=1e-5), kind
        assert refit.platt[kind] == pytest.approx(trained.platt[kind], abs=1e-4), kind
    # The wording bank: the same training captions, embedded by the same weights.
    assert trained.wording_bank is not None and refit.wording_bank.shape == trained.wording_bank.shape
    assert np.allclose(refit.wording_bank, trained.wording_bank, atol=2e-3)
    assert refit.wording_below == pytest.approx(trained.wording_below, abs=1e-3)
    assert {k: v for k, v in after.items() if k != "calibration"} == {k: v for k, v in meta.items()
                                                                      if k != "calibration"}


def test_recalibrate_says_what_is_wrong_with_a_folder_that_is_no_checkpoint(tmp_path, capsys):
    from lavimo_core.cli import main
    assert main(["recalibrate", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
