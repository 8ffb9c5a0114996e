"""`lavimo demo --preset tiny` end to end on the real dataset, then again to check it reuses model and store."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lavimo_core.cli import main
from lavimo_core.data.download import BANDAI_NAMCO_1, REPO_URL, DatasetDownloadError, RemoteDataset
from lavimo_core.demo import steps
from lavimo_core.paths import DatasetNotFoundError

REPO = Path(__file__).resolve().parents[2]


def seed_demo_checkpoint(trained_model: Path) -> Path:
    """Put the session's tiny model where the demo looks for its 'tiny' checkpoint, so it is not trained twice.

    Both are the `tiny` preset trained by the same code on the same data (each keyed on that code).
    """
    from lavimo_core.model.config import preset

    ckpt = steps.checkpoint_dir(preset("tiny"))
    if not (ckpt / "checkpoint.json").is_file():
        tmp = ckpt.with_name(ckpt.name + ".seeding")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(trained_model, tmp, ignore=shutil.ignore_patterns("resume"))
        os.replace(tmp, ckpt)
    return ckpt


def reopen_blend(blend: Path) -> dict:
    """What a fresh Blender process finds in `blend` (bpy in its own process, as the demo does)."""
    script = f"""
import json, bpy
bpy.ops.wm.open_mainfile(filepath={str(blend)!r})
obj = bpy.data.objects["LAVIMO_Mixamo"]
act = obj.animation_data.action
fcurves = act.layers[0].strips[0].channelbag(obj.animation_data.action_slot).fcurves
print(json.dumps({{"type": obj.type, "bones": len(obj.data.bones), "action": act.name,
                  "fcurves": len(fcurves), "keys": sorted({{len(fc.keyframe_points) for fc in fcurves}}),
                  "frame_range": list(act.frame_range), "scene_end": bpy.context.scene.frame_end,
                  "fps": bpy.context.scene.render.fps, "hips": [fc.data_path for fc in fcurves
                                                               if "mixamorig:Hips" in fc.data_path][:1]}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_demo_end_to_end_then_a_second_run_reuses_model_and_store(tmp_path, trained_model, capsys):
    from PIL import Image

    seed_demo_checkpoint(trained_model)
    out = tmp_path / "demo_out"
    assert main(["demo", "--preset", "tiny", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for n in range(1, 6):
        assert f"== Step {n}/5" in printed
    assert "bandai-namco-1+bandai-namco-2: 2106 clips" in printed        # step 1 prints the library's summary
    assert "reusing the trained model" in printed

    data = json.loads((out / "results.json").read_text())
    assert [q["kind"] for q in data["queries"]] == ["text"] * len(steps.TEXT_QUERIES) + ["video"]
    assert [q["query"] for q in data["queries"][:-1]] == list(steps.TEXT_QUERIES)
    for q in data["queries"]:
        hits = q["hits"]
        assert 1 <= len(hits) <= steps.TOP_K
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
        assert all(0.0 <= h["probability"] <= 1.0 and h["labels"]["content"] for h in hits)
        assert q["no_match"] == (not any(h["is_match"] for h in hits))
        assert 0.0 <= q["library_probability"] <= 1.0                        # P(library has a match)
        assert (q["library_probability"] < 0.5) == q["no_match"]              # one-kind queries: the same verdict
        picture = Image.open(out / q["picture"])
        assert picture.format == "PNG" and picture.width >= 6 * 0.6 * 240 and picture.height > 240
    assert data["store"]["motions"] == 174 + 1932           # the library holds both Bandai-Namco datasets
    assert data["dataset"]["name"] == "bandai-namco-1+bandai-namco-2"
    video = data["queries"][-1]
    assert video["source_motion"] in {m for m in _test_split()}                # a held-out clip
    assert video["query"] == str(out / "query_video.mp4") and (out / "query_video.mp4").stat().st_size > 10_000
    assert Image.open(out / video["picture"]).height > 2 * 240                  # query frames above the hit's poses

    md = (out / "results.md").read_text()
    for q in data["queries"]:
        assert q["picture"] in md and q["hits"][0]["name"] in md
    assert "CC BY-NC 4.0" in md
    assert md.count("P(library has a match): ") == len(data["queries"])

    b = data["blender"]
    best = data["queries"][steps.APPLY_QUERY]["hits"][0]["name"]
    assert b["action"] == best and b["armature"] == "LAVIMO_Mixamo" and b["fps"] == 30
    scene = reopen_blend(out / "demo.blend")
    assert scene["type"] == "ARMATURE" and scene["action"] == best and scene["fcurves"] > 50
    frames = b["frame_end"] - b["frame_start"] + 1
    assert scene["keys"] == [frames] and scene["frame_range"] == [1.0, float(b["frame_end"])]
    assert scene["scene_end"] == b["frame_end"] and scene["hips"]            # root motion keyed on the hips
    assert not list(out.glob(".*")) and not list(out.glob("*.blend1"))   # no temporary or backup files left

    video_mtime = (out / "query_video.mp4").stat().st_mtime_ns
    assert main(["demo", "--preset", "tiny", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    again = json.loads((out / "results.json").read_text())
    assert again["timings"]["model"]["note"] == "reused" and again["timings"]["store"]["note"] == "reused"
    assert again["model"] == data["model"] and again["store"] == data["store"]
    assert (out / "query_video.mp4").stat().st_mtime_ns == video_mtime      # the rendered query video is reused
    assert [q["hits"][0]["name"] for q in again["queries"]] == [q["hits"][0]["name"] for q in data["queries"]]
    assert "reusing the store" in printed


def _test_split() -> list[str]:
    from lavimo_core.data import load_dataset

    return [m.name for m in load_dataset().split("test")]


def test_library_without_dataset_2_holds_dataset_1_and_says_so(monkeypatch, capsys):
    real = steps.find_dataset

    def without_2(name):
        if name == "bandai-namco-2-dev":
            raise DatasetNotFoundError("absent")
        return real(name)

    assert steps.library_spec() == "bandai-namco-1+bandai-namco-2-dev"
    monkeypatch.setattr(steps, "find_dataset", without_2)
    assert steps.library_spec() == "bandai-namco-1"
    assert "bandai-namco-2-dev is not on this machine" in capsys.readouterr().out


def test_missing_dataset_without_download_explains_how_to_get_it(monkeypatch, tmp_path, capsys):
    def missing(name):
        raise DatasetNotFoundError(f"dataset {name!r} not found; looked in: {tmp_path}")

    monkeypatch.setattr(steps, "find_dataset", missing)
    monkeypatch.setattr(steps, "data_roots", lambda: [tmp_path / "data"])
    assert main(["demo", "--preset", "tiny", "--out", str(tmp_path / "out"), "--no-download"]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "To get it by hand" in err and REPO_URL in err
    assert str(tmp_path / "data" / "bandai-namco-1") in err and "LAVIMO_DATA" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []           # neither data/ nor the output folder


def test_missing_dataset_and_no_network_fails_cleanly(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(steps, "find_dataset", lambda name: (_ for _ in ()).throw(DatasetNotFoundError("absent")))
    monkeypatch.setattr(steps, "data_roots", lambda: [tmp_path / "data"])
    unreachable = RemoteDataset(name="bandai-namco-1", zip_url="http://127.0.0.1:9/data.zip",
                                zip_sha256=BANDAI_NAMCO_1.zip_sha256, zip_size=BANDAI_NAMCO_1.zip_size,
                                files=BANDAI_NAMCO_1.files, license_notice=BANDAI_NAMCO_1.license_notice)
    with pytest.raises(DatasetDownloadError) as err:
        steps.find_or_download_dataset(source=unreachable, progress=False)
    printed = capsys.readouterr().out
    assert "Downloading Bandai-Namco-Research-Motiondataset-1" in printed and "CC BY-NC 4.0" in printed
    assert "To get it by hand" in str(err.value) and "127.0.0.1:9" in str(err.value)
    assert not (tmp_path / "data").exists()


def test_the_blender_step_passes_on_a_clear_error_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(steps.DemoError, match=r"(?s)in Blender failed \(exit code 2\):\nerror: no store at .*no-store"):
        steps.apply_in_blender(tmp_path / "no-store", "dataset-1_kick_normal_001", out)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("bad", ["humanml3d", "huge"])
def test_a_preset_the_demo_cannot_train_is_refused_before_anything_runs(tmp_path, capsys, bad):
    assert main(["demo", "--preset", bad, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"--preset {bad!r}" in err and "choose default, tiny or bimodal" in err
    assert not (tmp_path / "out").exists()
