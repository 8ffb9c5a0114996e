"""Packaging: build_addon.py makes a valid extension zip that Blender installs and enables as bl_ext.*.lavimo."""

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import build_addon


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory):
    return build_addon.build(tmp_path_factory.mktemp("dist"))


def test_zip_holds_the_code_the_manifest_and_the_core_wheel(built_zip):
    with zipfile.ZipFile(built_zip) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert {"__init__.py", "batch.py", "bridge.py", "deps/requirements.txt", "search/ui.py", "apply/core.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert manifest["id"] == "lavimo" and manifest["schema_version"] == "1.0.0"
    assert manifest["blender_version_min"] == "4.5.0"
    assert list(manifest["permissions"]) == ["files"]  # no network
    [wheel] = manifest["wheels"]
    assert wheel.startswith("./wheels/lavimo_core-") and wheel.endswith("-py3-none-any.whl")
    assert wheel[2:] in names
    assert build_addon.validate(built_zip) == []


@pytest.mark.parametrize("edit, problem", [
    # Blender's own validator (extension validate)
    (('version = "0.1.0"', 'version = "1.0"'), "semantic-version"),
    (('tagline = "Find motions', 'tagline = "Ends with a period." #'), "punctuation"),
    (('id = "lavimo"', 'id = "lavimo__x"'), '"id" invalid'),
    (('license = ["SPDX:MIT"]\n', ''), 'missing "license"'),
    # LAVIMO's checks on top
    (('[permissions]\n', '[permissions]\nnetwork = "Download models"\n'), "never opens a network connection"),
    (('blender_version_min = "4.5.0"\n', 'blender_version_min = "4.5.0"\nwheels = ["./wheels/gone-1-py3-none-any.whl"]\n'),
     "not in the package"),
])
def test_validation_catches_mistakes(tmp_path, edit, problem):
    src = tmp_path / "lavimo"
    shutil.copytree(build_addon.ADDON, src, ignore=shutil.ignore_patterns("__pycache__", "model", "store"))
    text = (src / "blender_manifest.toml").read_text()
    assert edit[0] in text
    (src / "blender_manifest.toml").write_text(text.replace(*edit))
    problems = build_addon.validate(src)
    assert any(problem in p for p in problems), problems


def test_the_manifest_exclude_patterns_keep_caches_and_backups_out(tmp_path, monkeypatch):
    """Blender's build honours paths_exclude_pattern (the old hand-made zip ignored it and had its own list)."""
    src = tmp_path / "lavimo_blender"
    shutil.copytree(build_addon.ADDON, src, ignore=shutil.ignore_patterns("__pycache__", "model", "store"))
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "bridge.cpython-311.pyc").write_bytes(b"")
    (src / "scene.blend1").write_bytes(b"")
    text = (src / "blender_manifest.toml").read_text()
    (src / "blender_manifest.toml").write_text(text.replace('"/.git/"]', '"/.git/", "notes/"]'))
    (src / "notes").mkdir()
    (src / "notes" / "todo.txt").write_text("a developer's notes")
    monkeypatch.setattr(build_addon, "ADDON", src)
    with zipfile.ZipFile(build_addon.build(tmp_path / "dist")) as zf:
        names = set(zf.namelist())
    assert "__init__.py" in names and not [n for n in names if "pycache" in n or "blend1" in n or "notes/" in n]


def test_bad_model_folder_is_refused(tmp_path):
    with pytest.raises(build_addon.BuildError, match="not a LAVIMO checkpoint"):
        build_addon.build(tmp_path / "dist", model=tmp_path)


def test_command_line_prints_how_to_install(tmp_path):
    out = subprocess.run([sys.executable, str(build_addon.ROOT / "build_addon.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Install from Disk" in out.stdout and "extension install-file" in out.stdout


INSTALL = """
import sys, bpy, addon_utils
assert bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default",
                                                enable_on_install=True) == {"FINISHED"}
name = "bl_ext.user_default.lavimo"
prefs = bpy.context.preferences.addons[name].preferences
print("PREFS", type(prefs).bl_idname)
print("PANEL", hasattr(bpy.types, "LAVIMO_PT_search"))
print("SITE", sys.modules[name + ".deps"].site_packages())
import glob
print("WHEEL", glob.glob(bpy.utils.user_resource("EXTENSIONS") + "/.local/lib/python3*/site-packages/lavimo_core/__init__.py"))
addon_utils.disable(name, default_set=True)
print("AFTER", hasattr(bpy.types, "LAVIMO_PT_search"))
"""


def test_blender_installs_and_enables_the_zip_as_an_extension(built_zip, tmp_path):
    # A separate Blender (bpy module) with its own user folder, so the developer's Blender is untouched.
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    out = subprocess.run([sys.executable, "-c", INSTALL, str(built_zip)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PREFS bl_ext.user_default.lavimo" in out.stdout  # bl_idname follows __package__
    assert "PANEL True" in out.stdout and "AFTER False" in out.stdout
    site = tmp_path / "user" / "extensions" / ".user" / "user_default" / "lavimo" / "site-packages"
    assert f"SITE {site}" in out.stdout
    # While enabled, Blender had unpacked the bundled lavimo_core wheel into its extensions' site-packages.
    assert "WHEEL ['" in out.stdout and "/extensions/.local/lib/python3" in out.stdout


def test_bundled_model_and_store_carry_their_data_license(trained_model, built_store, tmp_path):
    # Both are made from Bandai-Namco-1 (CC BY-NC 4.0): whoever installs the zip must see those terms.
    zip_path = build_addon.build(tmp_path / "dist", model=Path(trained_model), store=Path(built_store))
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        notice = zf.read("DATA_LICENSE.md").decode()
    assert "model/model.safetensors" in names and "store/store.json" in names
    assert "the bundled model, the bundled store: Bandai-Namco-Research-Motiondataset-1" in notice
    assert "license CC BY-NC 4.0" in notice and "Non-commercial use only." in notice


def test_zip_without_data_has_no_data_license(built_zip):
    with zipfile.ZipFile(built_zip) as zf:
        assert "DATA_LICENSE.md" not in zf.namelist()


def test_a_folder_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a store")
    with pytest.raises(build_addon.BuildError, match="--store"):
        build_addon.build(tmp_path / "dist", store=tmp_path)
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def _fake_wheel(folder: Path, filename: str) -> Path:
    path = folder / filename
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(filename.split("-")[0] + "/__init__.py", "")
    return path


def test_platform_wheels_come_from_the_cache_and_a_broken_one_is_not_used(tmp_path):
    pins = {"tokenizers": "0.23.3", "tqdm": "4.70.1"}
    good = _fake_wheel(tmp_path, "tokenizers-0.23.3-cp310-abi3-win_amd64.whl")
    _fake_wheel(tmp_path, "tokenizers-0.22.0-cp310-abi3-win_amd64.whl")          # another version: ignored
    (tmp_path / "tqdm-4.70.1-py3-none-any.whl").write_bytes(b"truncated download")
    found = build_addon._cached_wheels(tmp_path, pins)
    assert found == {"tokenizers": good}                                           # no network needed for it
    assert not (tmp_path / "tqdm-4.70.1-py3-none-any.whl").exists()               # fetched again next time
    _fake_wheel(tmp_path, "tqdm-4.70.1-py3-none-any.whl")
    assert [w.name for w in build_addon.platform_wheels("windows-x64", tmp_path, pins)] == [
        "tokenizers-0.23.3-cp310-abi3-win_amd64.whl", "tqdm-4.70.1-py3-none-any.whl"]
    with pytest.raises(build_addon.BuildError, match="unknown platform"):
        build_addon.platform_wheels("amiga-68k", tmp_path, pins)


def test_bundled_pins_never_include_numpy(tmp_path):
    assert "numpy" not in build_addon.addon_pins() and "torch" not in build_addon.addon_pins()
    bad = tmp_path / "addon.txt"
    bad.write_text("numpy==2.1.0\n")
    with pytest.raises(build_addon.BuildError, match="Blender ships its own"):
        build_addon.addon_pins(bad)
    bad.write_text("scipy\n")
    with pytest.raises(build_addon.BuildError, match="not pinned"):
        build_addon.addon_pins(bad)


def test_platform_zip_refuses_a_model_without_onnx(trained_model, tmp_path):
    import shutil
    old = tmp_path / "old"
    shutil.copytree(trained_model, old, ignore=shutil.ignore_patterns("onnx"))
    with pytest.raises(build_addon.BuildError, match="no ONNX files.*lavimo export-onnx"):
        build_addon.check_model_runs_without_torch(old)
    manifest = build_addon.manifest_with_platforms(
        build_addon.manifest_with_wheels((build_addon.ADDON / "blender_manifest.toml").read_text(), ["./wheels/a.whl"]),
        ["macos-arm64"])
    parsed = tomllib.loads(manifest)
    assert parsed["platforms"] == ["macos-arm64"] and parsed["wheels"] == ["./wheels/a.whl"]


@pytest.mark.parametrize("platform", sorted(build_addon.PLATFORM_TAGS))
def test_bundled_wheels_leave_out_only_what_lavimo_never_loads(platform, tmp_path):
    """The real ONNX Runtime and MediaPipe wheels of each platform (from the build cache) lose the C API library and
    the other solutions' models, keep the Python module and the pose models, and their RECORD still tells the truth."""
    import base64
    import csv
    import fnmatch
    import hashlib
    pins = {name: v for name, v in build_addon.addon_pins().items() if name in ("onnxruntime", "mediapipe")}
    # Downloaded once into the build cache, as build_addon.py --platform does (CI starts with an empty cache).
    wheels = {w.name.split("-")[0]: w for w in build_addon.platform_wheels(platform, pins=pins)}
    for dist, keep in (("onnxruntime", "onnxruntime/capi/onnxruntime_pybind11_state"),
                       ("mediapipe", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite")):
        slim = tmp_path / wheels[dist].name
        left_out = build_addon.slim_wheel(wheels[dist], slim)
        with zipfile.ZipFile(wheels[dist]) as zf:
            before = {i.filename: i.file_size for i in zf.infolist()}
            listed = {row[0] for row in csv.reader(zf.read(next(n for n in before if n.endswith(".dist-info/RECORD")))
                                                   .decode().splitlines()) if row}
        with zipfile.ZipFile(slim) as zf:
            after = {i.filename: zf.read(i) for i in zf.infolist()}
            record_name = next(n for n in after if n.endswith(".dist-info/RECORD"))
            record = {row[0]: row[1] for row in csv.reader(after[record_name].decode().splitlines()) if row}
        gone = set(before) - set(after)
        assert gone and all(any(fnmatch.fnmatchcase(n, p) for p in build_addon.UNUSED_WHEEL_FILES[dist]) for n in gone)
        assert left_out == sum(before[n] for n in gone) > 15e6
        assert any(n.startswith(keep) for n in after)
        if dist == "mediapipe":
            assert {n for n in after if n.startswith("mediapipe/modules/pose_detection/")} == \
                {n for n in before if n.startswith("mediapipe/modules/pose_detection/")}
        files = {n for n in after if not n.endswith("/")}
        assert set(record) == listed - gone and set(record) <= files   # what is gone is no longer listed
        for name, data in after.items():   # and every kept file unchanged
            if record.get(name):
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert record[name] == f"sha256={digest}", name
