"""Headless batch with bad inputs: refused in one line (exit code 2) BEFORE any query runs, nothing written."""

import os

import bpy
import pytest

from lavimo_blender import batch


@pytest.fixture
def scene_file(clean_scene, tmp_path):
    """A real saved scene (an empty one is enough: these runs stop before any query)."""
    bpy.context.scene.collection.objects.link(bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera")))
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def refused(capsys, argv, tmp_path, *words):
    # The model and store do not exist: had the batch got as far as running queries, it would say so instead.
    code = batch.main(argv + ["--model", str(tmp_path / "no-model"), "--store", str(tmp_path / "no-store")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (code, err)
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize("content", ["random", "truncated", "empty"])
def test_a_blend_that_is_not_one(capsys, tmp_path, scene_file, content):
    bad = tmp_path / "bad.blend"
    data = scene_file.read_bytes()
    bad.write_bytes({"random": os.urandom(len(data)), "truncated": data[: len(data) // 3], "empty": b""}[content])
    refused(capsys, ["--blend", str(bad), "--query", "a person waves"], tmp_path, "cannot be opened", "Re-save")


def test_queries_file_not_utf8(capsys, tmp_path):
    q = tmp_path / "prompts.txt"
    q.write_bytes(b"a person walks\n" + "une personne salue\n".encode("utf-16"))
    refused(capsys, ["--queries", str(q)], tmp_path, "not UTF-8", "save it as UTF-8")


def test_outputs_are_checked_before_any_query(capsys, tmp_path, scene_file):
    folder = tmp_path / "reports"
    folder.mkdir()
    refused(capsys, ["--blend", str(scene_file), "--query", "x", "--report", str(folder)], tmp_path, "is a folder")
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("mine")
    refused(capsys, ["--blend", str(scene_file), "--query", "x", "--out", str(a_file / "out.blend")], tmp_path,
            "cannot write --out")
    same = tmp_path / "x.blend"
    refused(capsys, ["--query", "x", "--out", str(same), "--report", str(same)], tmp_path, "same file")
    assert a_file.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == [
        "a-file.txt", "reports", "scene.blend"]


def test_top_must_be_positive(capsys, tmp_path):
    refused(capsys, ["--query", "x", "--top", "0"], tmp_path, "--top must be at least 1")
