"""An ensemble (model.members > 1) trained on real Bandai-Namco-1 data with the tiny preset: members trained from
their own seeds and reused once finished; one checkpoint whose cosine is the mean of the members', calibrated,
exported to ONNX, and loaded by the Embedder like a single model."""

from __future__ import annotations

import numpy as np
import pytest

from lavimo_core.model.checkpoint import load_checkpoint, read_json, weights_sha256
from lavimo_core.model.config import ConfigError, ModelConfig, preset
from lavimo_core.model.embedder import Embedder
from lavimo_core.model.ensemble import Ensemble
from lavimo_core.train.ensemble import member_folders
from lavimo_core.train.loop import train, train_one

CAPTIONS = ["a person bows politely", "someone walks backwards sadly", "a person waves goodbye with both hands"]


def _config():
    cfg = preset("tiny")
    cfg.model.members = 2
    cfg.train.max_steps, cfg.train.eval_every, cfg.train.progress = 30, 15, False
    return cfg


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble") / "run"
    return train(_config(), out)


@pytest.fixture(scope="module")
def test_clips():
    from lavimo_core.train.data import load_splits
    return load_splits("bandai-namco-1").test


def test_members_are_whole_runs_of_their_own_seeds(ensemble_run):
    folders = member_folders(ensemble_run, 2)
    for seed, folder in enumerate(folders):
        member, cfg, meta = load_checkpoint(folder)
        assert cfg.train.seed == seed and cfg.model.members == 1 and "calibration" in meta
    assert weights_sha256(folders[0]) != weights_sha256(folders[1])


def test_checkpoint_holds_the_members_encoders_only(ensemble_run):
    from safetensors import safe_open
    model, cfg, meta = load_checkpoint(ensemble_run)
    assert isinstance(model, Ensemble) and cfg.model.members == 2 and model.embedding_dim == 2 * cfg.model.latent_dim
    with safe_open(str(ensemble_run / "model.safetensors"), "np") as f:
        keys = list(f.keys())
    assert {k.split(".")[1] for k in keys} == {"0", "1"}
    assert not [k for k in keys if ".decoder" in k or ".fusion" in k]
    training = meta["training"]
    assert len(training["members"]) == 2 and len(training["best_step"]) == 2
    assert {"text", "motion", "video"} <= set(meta["calibration"]["no_match_below"])
    assert training["best_metrics"]["t2m/content"]["n"] > 0


def test_cosine_is_the_mean_of_the_members(ensemble_run, test_clips):
    whole = Embedder.from_checkpoint(ensemble_run)
    parts = [Embedder.from_checkpoint(f) for f in member_folders(ensemble_run, 2)]
    t, m = whole.embed_text(CAPTIONS), whole.embed_motion(test_clips)
    assert t.shape == (3, whole.dim) and whole.dim == 2 * parts[0].dim
    assert np.allclose(np.linalg.norm(m, axis=1), 1, atol=1e-5)
    mean = np.mean([p.embed_text(CAPTIONS) @ p.embed_motion(test_clips).T for p in parts], axis=0)
    one_window = np.array([len(c.features) <= whole.window_frames for c in test_clips])
    assert one_window.any() and not one_window.all()
    assert np.allclose((t @ m.T)[:, one_window], mean[:, one_window], atol=1e-5)
    # A longer motion averages its windows' embeddings and normalises once, as a single model does.
    assert np.allclose(t @ m.T, mean, atol=0.03)


def test_onnx_export_matches_torch(ensemble_run, test_clips):
    from lavimo_core.runtime.onnx_embedder import OnnxEmbedder
    torch_side, onnx_side = Embedder.from_checkpoint(ensemble_run), OnnxEmbedder.from_checkpoint(ensemble_run)
    assert onnx_side.dim == torch_side.dim == 128
    for a, b in ((torch_side.embed_text(CAPTIONS), onnx_side.embed_text(CAPTIONS)),
                 (torch_side.embed_motion(test_clips[:6]), onnx_side.embed_motion(test_clips[:6]))):
        assert ((a * b).sum(1) > 0.999).all()


def test_a_second_run_reuses_finished_members(ensemble_run):
    folders = member_folders(ensemble_run, 2)
    before = [(f / "model.safetensors").stat().st_mtime_ns for f in folders]
    weights = weights_sha256(ensemble_run)
    train(_config(), ensemble_run)
    assert [(f / "model.safetensors").stat().st_mtime_ns for f in folders] == before
    assert weights_sha256(ensemble_run) == weights      # joining is deterministic
    assert read_json(ensemble_run / "checkpoint.json")["training"]["members"][1]["folder"] == "members/1"


def test_bad_member_counts_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="model.members"):
        ModelConfig(members=0)
    with pytest.raises(ConfigError, match="one model"):
        train_one(_config(), tmp_path / "x")
