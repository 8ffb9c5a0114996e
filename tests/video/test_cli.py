"""`lavimo render` and `lavimo featurize` on real files."""

from __future__ import annotations

import json
import shutil

import pytest

from lavimo_core.cli import main
from lavimo_core.paths import find_dataset
from lavimo_core.video.decode import probe

DATA = find_dataset("bandai-namco-1") / "data"


def test_render_then_featurize(tmp_path, capsys):
    out = tmp_path / "bye.mp4"
    assert main(["render", str(DATA / "dataset-1_bye_normal_001.bvh"), "--out", str(out), "--size", "320x240",
                 "--fps", "10", "--azimuth", "20"]) == 0
    assert "wrote" in capsys.readouterr().out
    info = probe(out)
    assert info.codec == "h264" and (info.width, info.height) == (320, 240)
    assert main(["featurize", str(out), "--json", "--end", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 20 and report["detection_rate"] > 0.9
    assert report["decode_s"] > 0 and report["pose_s"] > 0 and report["featurizer"].startswith("mediapipe")


def test_render_webm_with_a_random_camera(tmp_path, capsys):
    out = tmp_path / "bow.webm"
    assert main(["render", str(DATA / "dataset-1_bow_normal_001.bvh"), "--out", str(out), "--size", "160x120",
                 "--fps", "5", "--random-camera", "--seed", "3"]) == 0
    assert probe(out).codec == "vp9"


def test_render_into_a_missing_folder(tmp_path, capsys):
    assert main(["render", str(DATA / "dataset-1_bye_normal_001.bvh"), "--out", str(tmp_path / "no" / "x.mp4")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_featurize_a_file_that_is_not_a_video(tmp_path, capsys):
    bad = tmp_path / "clip.mp4"
    shutil.copy(DATA / "dataset-1_bye_normal_001.json", bad)
    assert main(["featurize", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a video file" in err and str(bad) in err


def test_featurize_needs_a_video_or_a_dataset(capsys):
    assert main(["featurize"]) == 2
    assert "give a VIDEO" in capsys.readouterr().err


@pytest.mark.slow
def test_featurize_prepares_a_dataset_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "clips"
    folder.mkdir()
    shutil.copy(DATA / "dataset-1_bye_normal_001.bvh", folder)
    assert main(["featurize", "--dataset", str(folder), "--cameras", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["videos"] == 1 and report["mean_detection_rate"] > 0.8
    assert len(list((tmp_path / "cache" / "video").rglob("*.npz"))) == 1
