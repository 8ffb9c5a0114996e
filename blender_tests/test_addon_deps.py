"""Dependencies: missing packages are named in the panel and by every operator; Install runs pinned pip."""

import importlib
import subprocess
import sys
from pathlib import Path

import bpy
import pytest

from blender_tests.addon_setup import draw_panel, fingerprint, make_rig
from lavimo_blender import activity
from lavimo_blender.deps import check, install
from lavimo_blender.search.ui import LAVIMO_PT_search

ROOT = Path(__file__).resolve().parent.parent
DEV_ONLY = {"pytest", "iniconfig", "pluggy", "ruff"}


def _pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_shipped_requirements_are_the_bundled_wheels_at_base_versions():
    base = _pins(ROOT / "requirements" / "base.txt")
    shipped = _pins(install.REQUIREMENTS)
    assert shipped == _pins(ROOT / "requirements" / "addon.txt")   # what a platform zip carries
    assert shipped == {k: base[k] for k in shipped}                  # at the versions everything is tested with
    for package in ("onnxruntime", "tokenizers", "mediapipe", "av"):
        assert package in shipped
    assert not set(shipped) & {"torch", "transformers", "numpy", "jax", "opencv-contrib-python", "matplotlib"}
    assert len(shipped) <= 10


def test_missing_onnxruntime_is_named_in_the_panel_with_an_install_button(addon, monkeypatch):
    assert "onnxruntime" not in check.missing()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what `import onnxruntime` sees when it is not installed
    assert check.missing("text") == ["onnxruntime"]
    assert check.missing("apply") == []
    layout = draw_panel(LAVIMO_PT_search)
    assert any("onnxruntime" in t for t in layout.texts())
    assert "lavimo.install_dependencies" in layout.operators()


def test_without_any_heavy_package_the_addon_loads_and_lists_them(clean_scene, monkeypatch):
    heavy = ["onnxruntime", "tokenizers", "av", "mediapipe"]
    for name in heavy:
        monkeypatch.setitem(sys.modules, name, None)
    import addon_utils

    assert addon_utils.enable("lavimo_blender", default_set=True) is not None
    try:
        assert check.missing() == heavy
        texts = draw_panel(LAVIMO_PT_search).texts()
        for name in heavy:
            assert f"  {name} ({check.PACKAGES[name]})" in texts
    finally:
        addon_utils.disable("lavimo_blender", default_set=True)


def test_every_operator_that_needs_the_model_runtime_reports_it_and_changes_nothing(addon, monkeypatch, tmp_path):
    from lavimo_core.paths import find_dataset

    rig = make_rig("mixamo")
    rig.keyframe_insert("location", frame=1)
    rig.keyframe_insert("location", frame=20)
    wm = bpy.context.window_manager
    wm.lavimo.prompt = "a person waves"
    wm.lavimo.video_path = str(tmp_path / "clip.mp4")
    (tmp_path / "lib").mkdir()
    bvh = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[0]
    (tmp_path / "lib" / bvh.name).write_bytes(bvh.read_bytes())
    wm.lavimo_library.folder = str(tmp_path / "lib")
    before = fingerprint()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    for call in (bpy.ops.lavimo.search_text, bpy.ops.lavimo.search_video, bpy.ops.lavimo.find_similar,
                 bpy.ops.lavimo.index_folder):
        with pytest.raises(RuntimeError, match=r"LAVIMO needs onnxruntime.*Install dependencies"):
            call()
    assert fingerprint() == before
    assert not (tmp_path / "lib" / "lavimo_store").exists()


@pytest.fixture
def no_pip_config(monkeypatch):
    """pip sees only what the add-on passes (this machine's pip config adds its own wheel folders)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)


def test_install_offline_without_the_wheels_reports_pips_error(addon, tmp_path, no_pip_config):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    wheels.mkdir()
    before = list(sys.path)
    with pytest.raises(RuntimeError, match=r"pip failed.*No matching distribution found for onnxruntime==1\.32\.0"):
        bpy.ops.lavimo.install_dependencies(target=str(target), wheel_dir=str(wheels))
    state = activity.slot("deps")
    assert state.failed and "pip failed" in state.message and not state.busy
    assert sys.path == before


def test_install_from_a_local_wheel_folder_installs_and_activates(addon, tmp_path, no_pip_config):
    # pip really runs; the wheel is a one-module package built here, so the test needs no network and no
    # copies of torch (lavimo_core's own wheel would pull numpy/scipy, which pip --target cannot skip).
    src, wheels, target = tmp_path / "src", tmp_path / "wheels", tmp_path / "site"
    (src / "lavimo_pip_probe").mkdir(parents=True)
    (src / "lavimo_pip_probe" / "__init__.py").write_text("VALUE = 42\n")
    (src / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\nbuild-backend = '
                                        '"setuptools.build_meta"\n[project]\nname = "lavimo_pip_probe"\n'
                                        'version = "1.0"\n')
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(src)], check=True, capture_output=True)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("lavimo_pip_probe==1.0\n")
    try:
        assert bpy.ops.lavimo.install_dependencies(requirements=str(requirements), target=str(target),
                                                   wheel_dir=str(wheels)) == {'FINISHED'}
        assert (target / "lavimo_pip_probe" / "__init__.py").is_file()
        assert sys.path[-1] == str(target)  # after Blender's own packages, so Blender's numpy wins
        assert importlib.import_module("lavimo_pip_probe").VALUE == 42
        assert "Dependencies installed" in activity.slot("deps").message
    finally:
        install.deactivate(target)
        sys.modules.pop("lavimo_pip_probe", None)


def test_pip_command_targets_the_folder_and_goes_offline_only_with_a_wheel_folder(tmp_path):
    online = install.pip_command(tmp_path, install.REQUIREMENTS)
    assert online[:4] == [sys.executable, "-m", "pip", "install"]
    assert online[online.index("--target") + 1] == str(tmp_path)
    assert "--no-index" not in online
    assert "--no-deps" in online   # exactly the pinned list: MediaPipe's declared jax/OpenCV/matplotlib stay out
    offline = install.pip_command(tmp_path, install.REQUIREMENTS, wheel_dir="/media/wheels")
    assert offline[-3:] == ["--no-index", "--find-links", "/media/wheels"]


def test_bad_install_inputs_are_reported(addon, tmp_path):
    with pytest.raises(RuntimeError, match="Requirements file not found"):
        bpy.ops.lavimo.install_dependencies(requirements=str(tmp_path / "nope.txt"), target=str(tmp_path))
    with pytest.raises(RuntimeError, match="Local wheel folder not found"):
        bpy.ops.lavimo.install_dependencies(target=str(tmp_path), wheel_dir=str(tmp_path / "missing"))


def test_install_refuses_the_network_when_blender_works_offline(addon, tmp_path, monkeypatch):
    from lavimo_blender.deps import ops

    monkeypatch.setattr(ops, "online_allowed", lambda: False)
    with pytest.raises(RuntimeError, match=r"work offline.*Online Access.*Local wheel folder"):
        bpy.ops.lavimo.install_dependencies(target=str(tmp_path / "site"))
    assert not (tmp_path / "site").exists()
