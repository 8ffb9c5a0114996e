"""Blender tests run through the `bpy` module (Blender 5.0.1 in .venv, 4.5 LTS in .venv-bpy45).

Fixtures live here, so tests never import them (helpers are in addon_setup.py and rig_fixtures.py).
Not `pytest_plugins`: pytest refuses it in a conftest below the rootdir, and the root conftest.py is
shared with tests/, which must not import bpy.
"""

import bpy
import pytest

from blender_tests.addon_setup import ADDON


@pytest.fixture
def clean_scene():
    """A factory-fresh scene, so tests never see each other's objects."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield bpy.context.scene


@pytest.fixture
def addon(clean_scene):
    """The add-on enabled through addon_utils (so its preferences exist), disabled afterwards."""
    import addon_utils  # on sys.path only once bpy is imported, and isort would sort it above bpy

    module = addon_utils.enable(ADDON, default_set=True)
    assert module is not None, "lavimo_blender failed to enable"
    yield module
    addon_utils.disable(ADDON, default_set=True)


@pytest.fixture
def ready_addon(addon, trained_model, built_store):
    """The add-on with its preferences set to the test model and the Bandai-Namco store."""
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.model_path = str(trained_model)
    prefs.stores.clear()
    prefs.stores.add().path = str(built_store)
    prefs.active_store = 0
    prefs.top_k = 5
    prefs.device = 'cpu'
    return addon


@pytest.fixture(scope="session")
def cmu_clip(tmp_path_factory):
    """The first 10 s of a CMU (cgspeed Daz-style, with fingers) clip, and its BVH file, unpacked to a temp dir."""
    import tarfile

    from lavimo_core.motion.load import load_motion
    from lavimo_core.motion.motion import Motion
    from lavimo_core.paths import find_dataset

    folder = tmp_path_factory.mktemp("cmu")
    with tarfile.open(find_dataset("cmu-acrnn") / "bvh.tar.xz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("martial_04.bvh"))
        member.name = "martial_04.bvh"
        tar.extract(member, folder, filter="data")
    full = load_motion(folder / "martial_04.bvh")
    return Motion(name="martial_04[:200]", joints=full.joints[:200], source=full.source), folder / "martial_04.bvh"


@pytest.fixture(scope="session")
def rigify_blend(tmp_path_factory):
    """A .blend with Rigify's human metarig and the rig generated from it by the Rigify add-on Blender ships."""
    from tools.rigify_rig import generate_rigify_blend

    return generate_rigify_blend(tmp_path_factory.mktemp("rigify") / "rigify.blend")


@pytest.fixture
def rigify_scene(rigify_blend):
    """The generated Rigify rig ("rig") and its metarig, freshly loaded."""
    bpy.ops.wm.open_mainfile(filepath=str(rigify_blend))
    return bpy.data.objects["rig"], bpy.data.objects["metarig"]


_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    """Remember the outcome for pytest_unconfigure."""
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    """On Blender 4.5, leave without C exit handlers once pytest has reported.

    The bpy 4.5 module can deadlock at exit in its own GlobalState destructor (the main thread in
    pthread_cond_destroy while bpy's delayed-close thread waits on that condition): seen after in-process
    add-on queries on the ONNX embedder, with every test passed, so the run never ended. Blender 5.0 exits
    normally and is left alone.
    """
    if bpy.app.version < (5, 0, 0):
        import os
        import sys
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
