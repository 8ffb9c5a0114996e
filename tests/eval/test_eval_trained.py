"""`lavimo eval` on the real tiny model: every direction and protocol, video through rendered files."""

import json

import pytest

from lavimo_core.cli import main


@pytest.mark.slow
def test_eval_cli_on_the_trained_tiny_model(trained_model, tmp_path, capsys):
    out = tmp_path / "eval.json"
    # 10 fps files: the path is the same (the decoder samples 10 fps either way), rendering is 3x cheaper.
    assert main(["eval", "--model", str(trained_model), "--json", str(out), "--video-fps", "10"]) == 0
    printed = capsys.readouterr().out
    assert "| t2m | b-content+style |" in printed and "| v2m | a |" in printed
    doc = json.loads(out.read_text())
    res = doc["results"]
    assert set(res) == {"t2m", "m2t", "v2m", "m2v", "t2v"}
    for direction in res.values():
        assert set(direction) == {"a", "b-content", "b-content+style", "d"}
        for m in direction.values():
            assert 0 <= m["R@1"] <= m["R@2"] <= m["R@3"] <= m["R@5"] <= m["R@10"] <= 1
    n = doc["n"]
    # Far above chance (1/n) even for the tiny model; the default model's figures are in BENCHMARKS.md.
    assert res["t2m"]["b-content"]["R@5"] >= 0.6
    assert res["t2m"]["a"]["R@1"] > 3 / n
    assert res["v2m"]["b-content"]["R@1"] > 3 / n
    assert doc["video"]["mean_detection_rate"] > 0.8          # MediaPipe saw the rendered person
