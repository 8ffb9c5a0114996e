"""`lavimo datasets` and `lavimo demo` print the clip table, totals and skipped files."""

import shutil

import pytest

from lavimo_core.cli import main
from lavimo_core.paths import find_dataset

DATA = find_dataset("bandai-namco-1") / "data"


def test_default_dataset_table(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["clip", "frames", "duration", "(s)", "content", "style", "split"]
    row = next(l for l in lines if l.startswith("dataset-1_walk-back_sad_001 "))
    name, frames, seconds, content, style, split = row.split()
    assert (content, style) == ("walk-back", "sad") and split in ("train", "val", "test")
    assert float(seconds) == pytest.approx(int(frames) / 20)
    assert sum(l.startswith("dataset-1_") for l in lines) == 174
    assert "bandai-namco-1: 174 clips" in out and "train:   128 clips" in out
    assert "CC BY-NC 4.0" in out and "Bandai Namco Research" in out and "skipped: none" in out


def test_folder_with_a_bad_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path / "cache"))
    shutil.copy(DATA / "dataset-1_kick_normal_001.bvh", tmp_path)
    text = (DATA / "dataset-1_punch_normal_002.bvh").read_text()
    (tmp_path / "cut.bvh").write_text(text[: len(text) // 2])
    assert main(["datasets", str(tmp_path), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "dataset-1_kick_normal_001" in out and f"{tmp_path.name}: 1 clips" in out
    assert "skipped 1 file(s):" in out
    skipped = out.split("skipped 1 file(s):")[1]
    assert "cut.bvh:" in skipped and "truncated" in skipped


def test_missing_dataset_is_a_clear_error(tmp_path, capsys):
    assert main(["datasets", str(tmp_path / "nowhere")]) == 2
    assert "no such dataset or folder" in capsys.readouterr().err
