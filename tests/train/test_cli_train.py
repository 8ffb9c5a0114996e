import json

import pytest

from lavimo_core.cli import main


def test_dump_config_applies_overrides(capsys):
    assert main(["train", "--preset", "tiny", "--set", "train.max_steps=7", "--set", "loss.tau=0.05",
                 "--set", "model.text_model=/models/distilbert", "--out", "unused", "--dump-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["preset"] == "tiny" and cfg["train"]["max_steps"] == 7 and cfg["loss"]["tau"] == 0.05
    assert cfg["model"]["text_model"] == "/models/distilbert"


@pytest.mark.parametrize("args, message", [
    (["--set", "train.max_step=7"], "max_step"),
    (["--set", "nonsense"], "SECTION.KEY=VALUE"),
    (["--preset", "huge"], "unknown preset"),
    (["--preset", "tiny", "--config", "x.json"], "either --preset or --config"),
])
def test_bad_arguments_are_explained(capsys, args, message):
    assert main(["train", *args, "--out", "unused", "--dump-config"]) == 2
    assert message in capsys.readouterr().err


def test_config_file_round_trip(tmp_path, capsys):
    from lavimo_core.model.config import preset
    preset("bimodal").save(tmp_path / "c.json")
    assert main(["train", "--config", str(tmp_path / "c.json"), "--out", "unused", "--dump-config"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["use_video"] is False
