import json

import pytest

from lavimo_core.model.config import PRESETS, LavimoConfig, preset
from lavimo_core.model.errors import ConfigError


@pytest.mark.parametrize("name", PRESETS)
def test_presets_round_trip_through_json(tmp_path, name):
    cfg = preset(name)
    cfg.save(tmp_path / "c.json")
    assert LavimoConfig.load(tmp_path / "c.json") == cfg


def test_unknown_key_is_named(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"model": {"hiden_dim": 64}}))
    with pytest.raises(ConfigError, match="hiden_dim"):
        LavimoConfig.load(tmp_path / "c.json")


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"train\.lr"):
        LavimoConfig.from_dict({"train": {"lr": "fast"}})


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"model": {\n  "latent_dim": 64,\n}}')
    with pytest.raises(ConfigError, match=r"c\.json.*line 3"):
        LavimoConfig.load(path)


def test_missing_file_and_inconsistent_sizes():
    with pytest.raises(ConfigError, match="does not exist"):
        LavimoConfig.load("/nonexistent/c.json")
    with pytest.raises(ConfigError, match="divisible"):
        LavimoConfig.from_dict({"model": {"hidden_dim": 66, "heads": 4}})
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("huge")
    with pytest.raises(ConfigError, match=r"train\.ema_decay.*\[0, 1\)"):
        LavimoConfig.from_dict({"train": {"ema_decay": 1.0}})
    for key in ("video_zoom_prob", "mirror_prob"):       # 2.0 would silently mean "always"
        with pytest.raises(ConfigError, match=rf"train\.{key}.*probability"):
            LavimoConfig.from_dict({"train": {key: 2.0}})


def test_partial_config_keeps_defaults():
    cfg = LavimoConfig.from_dict({"loss": {"tau": 0.05}, "train": {"max_steps": 10}})
    assert cfg.loss.tau == 0.05 and cfg.train.max_steps == 10
    assert cfg.model == preset("default").model
