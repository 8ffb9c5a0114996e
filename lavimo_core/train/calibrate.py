"""Refit a trained model's calibration on its validation split, without retraining.

Training fits the calibration at its end (loop.py `_finish`) from its Validator; `recalibrate` rebuilds the
same Validator from the checkpoint's own config and does the same, so a checkpoint gets what training with
the current code would write, in a minute instead of an hour: e.g. after the definition of "absent" that
the no-match threshold is fitted on changed (model/calibration.py). An ensemble (train/ensemble.py) is
measured and calibrated the same way once its members are joined.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..model.calibration import Calibration, fit_calibration
from ..model.checkpoint import load_checkpoint, update_meta
from ..model.config import LavimoConfig
from ..model.text_backbone import TextBackbone, TokenFeatureCache
from .clips import TrainingWording, all_captions, prepare_clips, training_wording
from .data import load_splits
from .validation import Validator


def validation_of(cfg: LavimoConfig, progress: bool = False) -> tuple[Validator, TrainingWording]:
    """The Validator a run of `cfg` validated with, and the wording bank of its training captions."""
    data = load_splits(cfg.train.dataset, cfg.train.val_fraction, progress=progress)
    val_clips = prepare_clips(data.val, mirror=False)
    # The training captions only for the wording bank: the same views training made (mirrored as it mirrors).
    trained = training_wording(prepare_clips(data.train, mirror=cfg.train.mirror_prob > 0))
    backbone = TextBackbone(cfg.model.text_model, cfg.model.text_max_tokens, torch.device("cpu"))
    text = TokenFeatureCache(backbone, sorted(set(all_captions(val_clips)) | set(trained.captions)), progress=progress)
    validator = Validator(val_clips, text, cfg, cfg.model.use_video, parts=[data.part_of[m.name] for m in data.val])
    return validator, trained


def recalibrate(folder: str | Path, progress: bool = False) -> Calibration:
    """Fit the calibration of the checkpoint in `folder` on its dataset's validation split and write it there."""
    model, cfg, _ = load_checkpoint(folder)
    validator, trained = validation_of(cfg, progress)
    calibration = fit_calibration(*validator.calibration_samples(model, trained))
    update_meta(folder, calibration=calibration.to_dict())
    return calibration
