"""Bad command lines and damaged or read-only stores: one line saying what to do, exit code 2, nothing changed."""

from __future__ import annotations

import json

import pytest

from lavimo_core.cli import main
from lavimo_core.store import Store


def lavimo(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(capsys, *argv, match: str):
    rc, out, err = lavimo(capsys, *argv)
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, (rc, err)
    assert "Traceback" not in err and match in err, err
    return err


@pytest.mark.parametrize("flags, match", [
    (["--video", "clip.mp4", "--start", "3", "--end", "1"], "--end (1 s) must be after --start (3 s)"),
    (["--video", "clip.mp4", "--start", "nan"], "--start must be"),
    (["--video", "clip.mp4", "--start", "-2"], "--start must be"),
    (["--start", "1"], "give --video FILE too"),
    (["--min-duration", "nan"], "--min-duration must be"),
    (["--min-duration", "5", "--max-duration", "2"], "no motion could match"),
    (["--text-weight", "nan"], "--text-weight must be a positive number"),
])
def test_search_refuses_bad_numbers_before_loading_anything(capsys, tmp_path, flags, match):
    # The store does not even exist: numbers are checked first, so the user fixes them at once.
    one_line_error(capsys, "search", "a person bows", "--store", tmp_path / "none", *flags, match=match)


def test_index_batch_size_must_be_positive(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["index", "bandai-namco-1", "--model", "m", "--out", str(tmp_path / "s"), "--batch-size", "0"])
    assert info.value.code == 2 and "--batch-size: must be at least 1" in capsys.readouterr().err


def test_index_checks_the_output_before_loading_motions(capsys, tmp_path, make_store, bandai_motions):
    one_line_error(capsys, "index", "bandai-namco-1", "--model", tmp_path / "no-model", "--out",
                   tmp_path / "missing" / "lib", match="does not exist; create it first")
    store = make_store(bandai_motions[:2])
    one_line_error(capsys, "index", "bandai-namco-1", "--model", tmp_path / "no-model", "--out", store.path,
                   match="--append")


def test_remove_from_a_read_only_store(capsys, read_only, make_store, bandai_motions):
    store = make_store(bandai_motions[:3])
    with read_only(store.path):
        one_line_error(capsys, "index", "--out", store.path, "--remove", bandai_motions[0].name,
                       match="cannot write to store")
    assert len(Store.open(store.path)) == 3


@pytest.mark.parametrize("name", [17, ["000001"], "../000001"])
def test_info_on_a_manifest_with_a_bad_segment_name(capsys, edit_manifest, make_store, bandai_motions, name):
    store = make_store(bandai_motions[:2])
    edit_manifest(store.path, lambda m: m["segments"][0].update(name=name))
    one_line_error(capsys, "info", store.path, "--verify", match="segment name")
    assert json.loads((store.path / "store.json").read_text())["segments"][0]["name"] == name  # left as it was


def test_index_skips_absurd_clips_by_name_and_summarises(capsys, tmp_path, trained_model):
    # One BVH with 1e30 in a root position channel used to stop the whole build, naming no file.
    import shutil

    from lavimo_core.paths import find_dataset

    folder = tmp_path / "clips"
    folder.mkdir()
    good = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[:2]
    for f in good:
        shutil.copy(f, folder)
    lines = good[0].read_text().splitlines()
    at = lines.index("MOTION")
    (folder / "frame-time.bvh").write_text("\n".join(lines[:at + 2] + ["Frame Time: 1e7"] + lines[at + 3:]) + "\n")
    parts = lines[at + 8].split()
    parts[0] = "1e30"
    (folder / "root-1e30.bvh").write_text("\n".join(lines[:at + 8] + [" ".join(parts)] + lines[at + 9:]) + "\n")
    rc, out, err = lavimo(capsys, "index", folder, "--model", trained_model, "--out", tmp_path / "lib")
    assert rc == 0, err
    assert "2 added" in out and "2 skipped" in out
    skipped = [line for line in err.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 2 and any("root-1e30.bvh" in s and "Xposition" in s for s in skipped)
    assert any("frame-time.bvh" in s and "Frame Time" in s for s in skipped)
