"""Training on unusable data fails early with a message that says what to do."""

import shutil

import pytest

from lavimo_core.errors import LavimoError
from lavimo_core.model.config import preset
from lavimo_core.model.errors import EmptyDatasetError
from lavimo_core.paths import find_dataset
from lavimo_core.train.loop import train

BVH = find_dataset("bandai-namco-1") / "data"


def _cfg(folder):
    cfg = preset("tiny")
    cfg.train.dataset = str(folder)
    cfg.train.progress = False
    return cfg


def test_empty_folder(tmp_path):
    (tmp_path / "motions").mkdir()
    with pytest.raises(LavimoError, match="no .bvh files"):
        train(_cfg(tmp_path / "motions"), tmp_path / "out")


def test_one_clip_is_too_small(tmp_path):
    (tmp_path / "motions").mkdir()
    shutil.copy(BVH / "dataset-1_bow_active_001.bvh", tmp_path / "motions")
    (tmp_path / "motions" / "captions.json").write_text('{"dataset-1_bow_active_001.bvh": ["a person bows"]}')
    with pytest.raises(EmptyDatasetError, match="too small to train"):
        train(_cfg(tmp_path / "motions"), tmp_path / "out")


def test_clips_without_captions(tmp_path):
    (tmp_path / "motions").mkdir()
    for name in ("bow_active", "kick_normal", "walk_sad"):
        shutil.copy(BVH / f"dataset-1_{name}_001.bvh", tmp_path / "motions")
    with pytest.raises(EmptyDatasetError, match="captions sidecar"):
        train(_cfg(tmp_path / "motions"), tmp_path / "out")
