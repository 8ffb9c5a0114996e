import json

import pytest
import torch

from lavimo_core.model.checkpoint import load_checkpoint, load_train_state, save_checkpoint, save_train_state
from lavimo_core.model.config import preset
from lavimo_core.model.errors import CheckpointError
from lavimo_core.model.lavimo import Lavimo


def _model():
    torch.manual_seed(0)
    cfg = preset("tiny")
    cfg.model.video_feature_dim = 12
    m = Lavimo(cfg.model, text_dim=384)
    m.set_normalizer(torch.linspace(0, 1, 263), torch.linspace(1, 2, 263))
    return m, cfg


@pytest.fixture
def saved(tmp_path):
    m, cfg = _model()
    save_checkpoint(tmp_path / "ckpt", m, cfg, {"text_model": {"name": "x", "sha256": "y"}})
    return tmp_path / "ckpt", m


def test_round_trip_gives_the_same_embeddings(saved, humanml3d_features):
    folder, m = saved
    loaded, cfg, meta = load_checkpoint(folder)
    assert meta["text_model"]["name"] == "x" and cfg.preset == "tiny"
    x = torch.from_numpy(humanml3d_features[:50]).float()[None]
    mask = torch.ones(1, 50, dtype=torch.bool)
    with torch.no_grad():
        assert torch.equal(loaded.encode_motion(x, mask), m.eval().encode_motion(x, mask))
    assert torch.equal(loaded.motion_std, m.motion_std)
    assert not any(p.suffix == ".pt" or p.suffix == ".pkl" for p in folder.iterdir())


def test_missing_file_is_named(saved):
    folder, _ = saved
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match="config.json"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match="not a folder"):
        load_checkpoint(folder / "nothing")


def test_corrupt_weights_and_json_are_reported(saved):
    folder, _ = saved
    (folder / "checkpoint.json").write_text("{oops")
    with pytest.raises(CheckpointError, match="checkpoint.json.*not valid JSON"):
        load_checkpoint(folder)


def test_truncated_weights_are_reported(saved):
    folder, _ = saved
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="safetensors"):
        load_checkpoint(folder)


def test_weights_from_another_config_are_refused(saved):
    folder, _ = saved
    cfg = json.loads((folder / "config.json").read_text())
    cfg["model"]["hidden_dim"] = 128
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not match its config.json.*wrong shape"):
        load_checkpoint(folder)


def test_optimizer_state_round_trip(tmp_path, humanml3d_features):
    m, cfg = _model()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    x = torch.from_numpy(humanml3d_features[:40]).float()[None]
    m.encode_motion(x, torch.ones(1, 40, dtype=torch.bool)).sum().backward()
    opt.step()
    save_train_state(tmp_path, m, opt, {"step": 1})
    m2, _ = _model()
    opt2 = torch.optim.AdamW(m2.parameters(), lr=1e-3)
    state = load_train_state(tmp_path, m2, opt2)
    assert state["step"] == 1
    a, b = opt.state_dict(), opt2.state_dict()
    for k in a["state"]:
        for name in a["state"][k]:
            assert torch.equal(a["state"][k][name], b["state"][k][name])
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), m2.parameters()))
    assert load_train_state(tmp_path / "none", m2, opt2) is None
