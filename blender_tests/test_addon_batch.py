"""Headless batch: a .blend in, searches, the best hit applied, a .blend out that carries the new action."""

import json
import os
import subprocess
import sys
from pathlib import Path

import bpy
import pytest

from blender_tests.addon_setup import make_rig
from blender_tests.rig_fixtures import action_keys
from lavimo_blender import batch

pytestmark = pytest.mark.slow  # needs the trained test model and store
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scene_file(clean_scene, tmp_path):
    """A saved scene with a Mixamo-like rig named "Hero" and a camera."""
    rig = make_rig("mixamo")
    rig.name = "Hero"
    bpy.context.scene.collection.objects.link(bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera")))
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def test_batch_function_searches_applies_and_saves(scene_file, tmp_path, trained_model, built_store):
    out, report_path = tmp_path / "out" / "result.blend", tmp_path / "report.json"
    code = batch.main(["--blend", str(scene_file), "--query", "a person walks forward", "--armature", "Hero",
                       "--top", "3", "--apply", "--out", str(out), "--report", str(report_path),
                       "--model", str(trained_model), "--store", str(built_store)])
    assert code == 0
    report = json.loads(report_path.read_text())
    [entry] = report["queries"]
    assert entry["ok"] and len(entry["hits"]) == 3
    assert entry["hits"][0]["name"] == entry["applied"]["motion"]
    assert 0.0 <= entry["library_probability"] <= 1.0 and (entry["library_probability"] < 0.5) == entry["no_match"]
    assert entry["applied"]["keyed_bones"] >= 11
    # Reopen the saved file: the armature carries the new action.
    bpy.ops.wm.open_mainfile(filepath=str(out))
    hero = bpy.data.objects["Hero"]
    assert hero.animation_data.action.name == entry["applied"]["action"]
    assert action_keys(hero) > 0
    assert "Camera" in bpy.data.objects


def test_batch_through_the_bpy_module_with_a_file_of_prompts_as_nla_strips(scene_file, tmp_path, trained_model,
                                                                           built_store):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# a little sequence\na person walks forward\n\na person bows\n")
    out, report_path = tmp_path / "seq.blend", tmp_path / "seq.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "lavimo_blender.batch", "--blend", str(scene_file),
                           "--queries", str(prompts), "--armature", "Hero", "--apply", "--nla", "--top", "2",
                           "--out", str(out), "--report", str(report_path), "--model", str(trained_model),
                           "--store", str(built_store)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert [q["query"] for q in report["queries"]] == ["a person walks forward", "a person bows"]
    first, second = (q["applied"] for q in report["queries"])
    assert second["frame_start"] == first["frame_end"] + 1  # strips follow one another
    bpy.ops.wm.open_mainfile(filepath=str(out))
    tracks = bpy.data.objects["Hero"].animation_data.nla_tracks
    assert len(tracks) == 2 and all(len(t.strips) == 1 for t in tracks)


SCRIPT_MODE = """
import runpy, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
sys.argv = ["blender", "-b", sys.argv[1], "--python", sys.argv[2], "--"] + sys.argv[3:]
runpy.run_path(sys.argv[4], run_name="__main__")
"""


def test_batch_as_a_blender_python_script(scene_file, tmp_path, trained_model, built_store):
    # What `blender -b scene.blend --python <addon>/batch.py -- ...` does: the file is open, batch.py runs as
    # __main__ outside any package, and reads its arguments after "--".
    report_path = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-c", SCRIPT_MODE, str(scene_file), str(ROOT / "lavimo_blender" / "batch.py"),
                           "--query", "a person jumps", "--top", "4", "--report", str(report_path),
                           "--model", str(trained_model), "--store", str(built_store)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["blend"] == str(scene_file) and len(report["queries"][0]["hits"]) == 4


def test_batch_bad_arguments_are_explained(scene_file, tmp_path, trained_model, built_store, capsys):
    common = ["--model", str(trained_model), "--store", str(built_store), "--blend", str(scene_file)]
    assert batch.main(["--query", "a person waves", "--apply", "--armature", "Nobody"] + common) == 2
    assert "no object named 'Nobody'" in capsys.readouterr().err
    assert batch.main(["--queries", str(tmp_path / "none.txt")] + common) == 2
    assert "cannot read --queries" in capsys.readouterr().err
    assert batch.main(["--query", "a person waves", "--bone-map", "pelvis"] + common) == 2
    assert "joint=bone pairs" in capsys.readouterr().err
    assert batch.main(["--query", "a person waves", "--store", str(tmp_path / "nope"),
                       "--model", str(trained_model)]) == 2
    assert "store not found" in capsys.readouterr().err
    assert batch.main(["--video", str(tmp_path / "missing.mp4")] + common + ["--report", str(tmp_path / "v.json")]) == 1
    assert json.loads((tmp_path / "v.json").read_text())["queries"][0]["error"].startswith("Video not found")
