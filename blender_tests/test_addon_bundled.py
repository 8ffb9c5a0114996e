"""The platform zip, installed by Blender itself, answers text, video and Find-similar queries with only its
bundled wheels: no torch, transformers, jax or OpenCV. And what a user sees when the zip or model is wrong.

Each case runs blender_tests/bundled_run.py in a fresh Blender process with its own user folder, after the
interpreter has dropped the venv's site-packages and the source tree from its path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import build_addon
from lavimo_blender.deps import bundle

pytestmark = pytest.mark.slow  # downloads the platform's wheels once (then cached), installs them per case

RUNNER = Path(__file__).with_name("bundled_run.py")
HERE = bundle.current_platform()


@pytest.fixture(scope="module")
def platform_zip(tmp_path_factory, trained_model, built_store):
    if HERE not in build_addon.PLATFORM_TAGS:
        pytest.skip(f"no LAVIMO platform build for {HERE}")
    return build_addon.build(tmp_path_factory.mktemp("dist"), model=Path(trained_model), store=Path(built_store),
                             platform=HERE)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset
    from lavimo_core.synthesis.render import Camera, write_video

    bvh = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[3]
    return write_video(tmp_path_factory.mktemp("video") / "reference.mp4", load_motion(bvh),
                       Camera(azimuth=20.0, size=(320, 240)), fps=20.0)


def run_in_blender(zip_path: Path, scenario: str, tmp_path: Path, video: Path | None = None,
                   model: Path | None = None, **env_extra: str) -> dict:
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"), LAVIMO_TEST_MODEL=str(model or ""),
               **env_extra)
    env.pop("PYTHONPATH", None)
    tmp_path.mkdir(parents=True, exist_ok=True)
    report = tmp_path / f"{scenario}.json"
    proc = subprocess.run([sys.executable, str(RUNNER), str(zip_path), scenario, str(video or ""), str(report)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0 and report.is_file(), (proc.stdout + proc.stderr)[-3000:]
    return json.loads(report.read_text()) | {"console": proc.stdout + proc.stderr}


def test_zip_carries_the_platform_wheels_and_names_its_platform(platform_zip):
    import tomllib
    with zipfile.ZipFile(platform_zip) as zf:
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        names = set(zf.namelist())
    assert manifest["platforms"] == [HERE]
    wheels = [w.removeprefix("./wheels/") for w in manifest["wheels"]]
    assert all(f"wheels/{w}" in names for w in wheels)
    dists = {w.split("-")[0].lower() for w in wheels}
    assert dists == {"lavimo_core"} | {n.replace("-", "_") for n in build_addon.addon_pins()}
    assert not dists & {"numpy", "scipy", "torch", "transformers", "jax", "jaxlib", "opencv_contrib_python",
                        "matplotlib"}
    assert len(dists - {"lavimo_core"}) <= 10
    assert {"model/onnx/text.onnx", "model/onnx/export.json", "store/store.json"} <= names


def test_text_video_and_similar_queries_never_import_torch(platform_zip, video, tmp_path):
    landmarks = tmp_path / "bundled_landmarks.npz"
    out = run_in_blender(platform_zip, "bundled", tmp_path, video, LAVIMO_TEST_LANDMARKS=str(landmarks))
    assert "install_error" not in out, out
    assert out["missing"] == [] and out["platform_problem"] is None and out["panel"] == []
    assert "/extensions/.local/lib/python3" in out["lavimo_core"]   # from the bundled wheel, not the source tree
    assert out["embedder"] == "OnnxEmbedder"
    assert len(out["text_hits"]) == 10 and len(out["video_hits"]) == 10 and out["similar_found"]
    assert out["video_queries"] == 3   # a second video query found MediaPipe still installed (it did not before)
    assert out["heavy"] == []
    # The zip's MediaPipe and ONNX Runtime lack what LAVIMO never loads (build_addon.UNUSED_WHEEL_FILES): the
    # queries above ran, and the video's landmarks are the very ones of the whole MediaPipe wheel in the venv.
    from lavimo_core.video.decode import iter_frames
    from lavimo_core.video.features import VIDEO_FPS
    from lavimo_core.video.pose import MediaPipePoseFeaturizer
    full = MediaPipePoseFeaturizer().raw_track(iter_frames(video, fps=VIDEO_FPS), VIDEO_FPS)
    bundled = np.load(landmarks)
    assert full.present.mean() > 0.5
    for key in ("image", "world", "visibility", "present"):
        np.testing.assert_array_equal(bundled[key], getattr(full, key))


def test_a_missing_bundled_package_says_to_reinstall_the_zip(platform_zip, tmp_path):
    out = run_in_blender(platform_zip, "missing", tmp_path)
    assert out["missing"] == ["tokenizers"]
    assert any("install the zip again" in t for t in out["panel"])
    assert "bundled tokenizers is missing or damaged" in out["error"] and "Install from Disk" in out["error"]


def test_a_damaged_bundled_package_says_to_reinstall_the_zip(platform_zip, tmp_path):
    broken = tmp_path / platform_zip.name
    with zipfile.ZipFile(platform_zip) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("wheels/tokenizers-"):
                data = _damage_library(data)   # the wheel unpacks, its compiled library does not load
            dst.writestr(item, data)
    out = run_in_blender(broken, "damaged", tmp_path)
    assert "install_error" not in out, out
    assert "tokenizers package cannot be loaded" in out["error"] and "install its zip" in out["error"]
    assert out["heavy"] == []


def _damage_library(wheel: bytes) -> bytes:
    import io
    src, buf = zipfile.ZipFile(io.BytesIO(wheel)), io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            # Not a library at all (a truncated one may crash the loader instead of failing the import).
            dst.writestr(item, b"not a shared library\n" * 64 if item.filename.endswith((".so", ".pyd", ".dylib")) else data)
    return buf.getvalue()


def test_a_zip_for_another_platform_is_refused_with_the_right_zip_named(platform_zip, tmp_path):
    other = "windows-x64" if HERE != "windows-x64" else "linux-x64"
    foreign = tmp_path / platform_zip.name.replace(HERE.replace("-", "_"), other.replace("-", "_"))
    with zipfile.ZipFile(platform_zip) as src, zipfile.ZipFile(foreign, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "blender_manifest.toml":
                data = data.replace(f'platforms = ["{HERE}"]'.encode(), f'platforms = ["{other}"]'.encode())
            dst.writestr(item, data)
    out = run_in_blender(foreign, "foreign", tmp_path)
    assert "install_error" in out, out
    assert f"This platform ({HERE}) isn't one of ({other})" in out["console"]   # Blender's own refusal
    # Copied in by hand instead (Blender not asked): the panel names the zip to install.
    manifest = tmp_path / "blender_manifest.toml"
    manifest.write_text(f'id = "lavimo"\nversion = "0.1.0"\nplatforms = ["{other}"]\n')
    problem = bundle.platform_problem(manifest)
    assert f"built for {other}" in problem and f"lavimo-0.1.0-{HERE.replace('-', '_')}.zip" in problem


def test_onnx_from_other_weights_and_an_old_checkpoint_say_what_to_do(platform_zip, trained_model, tmp_path):
    mismatched = tmp_path / "mismatched"
    shutil.copytree(trained_model, mismatched)
    weights = mismatched / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    out = run_in_blender(platform_zip, "mismatch", tmp_path / "a", model=mismatched)
    assert "exported from other weights" in out["error"] and "lavimo export-onnx" in out["error"]
    old = tmp_path / "old"
    shutil.copytree(trained_model, old, ignore=shutil.ignore_patterns("onnx"))
    out = run_in_blender(platform_zip, "old", tmp_path / "b", model=old)
    assert "has no ONNX files" in out["error"] and "lavimo export-onnx" in out["error"]
    assert out["heavy"] == []
