"""Moments in the add-on: a store of long takes, the batch applies the best hit's range, the list carries it."""

import json
import math

import bpy
import pytest

from blender_tests.addon_setup import make_rig
from lavimo_blender import batch

pytestmark = pytest.mark.slow  # needs the trained test model


@pytest.fixture(scope="module")
def takes_store(trained_model, tmp_path_factory):
    """A store of four spliced long takes (real Bandai clips: walk, wave, run, raise hands, bow)."""
    from lavimo_core.eval.spliced import load_clips, spliced_set
    from lavimo_core.model.embedder import Embedder
    from lavimo_core.store import Store

    path = tmp_path_factory.mktemp("takes") / "store"
    store = Store.create(path, Embedder.from_checkpoint(trained_model), model_path=trained_model)
    store.add([t.motion for t in spliced_set(load_clips(per_content=3), takes=4, seed=2)])
    return path


def _keyed_frames(action):
    frames = [k.co[0] for layer in action.layers for strip in layer.strips for bag in strip.channelbags
              for fc in bag.fcurves for k in fc.keyframe_points]
    return min(frames), max(frames)


def test_batch_applies_the_moment_with_handles_and_the_list_shows_its_range(clean_scene, tmp_path, trained_model,
                                                                            takes_store):
    rig = make_rig("mixamo")
    rig.name = "Hero"
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    path = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    report_path = tmp_path / "report.json"
    code = batch.main(["--blend", str(path), "--query", "a person bows", "--armature", "Hero", "--apply",
                       "--frame-start", "20", "--handles", "3", "--report", str(report_path),
                       "--model", str(trained_model), "--store", str(takes_store)])
    assert code == 0
    [entry] = json.loads(report_path.read_text())["queries"]
    best = entry["hits"][0]
    assert best["name"].startswith("take_") and 0 < best["end"] - best["start"] < best["duration"]
    assert entry["applied"]["range"] == pytest.approx([best["start"], best["end"]], abs=1e-5)   # Blender floats
    before = min(3, math.floor(best["start"] * 30 + 1e-6))
    after = min(3, math.floor((best["duration"] - 0.05 - best["end"]) * 30 + 1e-6))
    first, last = _keyed_frames(bpy.data.objects["Hero"].animation_data.action)
    assert first == 20 - before
    assert last == pytest.approx(20 + math.floor((best["end"] - best["start"]) * 30 + 1e-6) + after, abs=1)


def test_batch_refuses_negative_handles_before_searching(clean_scene, tmp_path, trained_model, takes_store, capsys):
    code = batch.main(["--query", "a person bows", "--apply", "--handles", "-2", "--model", str(trained_model),
                       "--store", str(takes_store)])
    assert code == 2 and "--handles must be 0 or more frames, got -2" in capsys.readouterr().err
