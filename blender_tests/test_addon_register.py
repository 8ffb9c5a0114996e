"""Registration: register, unregister, register again, without leaks; loads under any package name; no torch at load."""

import subprocess
import sys

import addon_utils
import bpy
import bpy.utils.previews

import lavimo_blender
from blender_tests.addon_setup import ADDON, draw_panel, timer_driven
from lavimo_blender import bridge, deps, thumbnails

HANDLER_LISTS = [name for name in dir(bpy.app.handlers) if not name.startswith("_")
                 and isinstance(getattr(bpy.app.handlers, name), list)]


def _world():
    """What registration may add to Blender: classes, properties, handlers, timers, previews, sys.path."""
    return {
        "classes": sorted(n for n in dir(bpy.types) if n.startswith("LAVIMO_")),
        "wm_props": [p for p in ("lavimo", "lavimo_activity", "lavimo_library") if hasattr(bpy.types.WindowManager, p)],
        "scene_props": [p for p in ("lavimo_apply",) if hasattr(bpy.types.Scene, p)],
        "handlers": {n: len(getattr(bpy.app.handlers, n)) for n in HANDLER_LISTS},
        "timer": bpy.app.timers.is_registered(bridge.drain),
        "previews": len(bpy.utils.previews._uuid_open),
        "sys_path": list(sys.path),
    }


def test_register_unregister_register_again_leaves_nothing_behind(clean_scene):
    before = _world()
    lavimo_blender.register()
    registered = _world()
    assert "LAVIMO_PT_search" in registered["classes"] and "LAVIMO_FH_video" in registered["classes"]
    assert registered["wm_props"] == ["lavimo", "lavimo_activity", "lavimo_library"]
    assert registered["scene_props"] == ["lavimo_apply"]
    assert registered["previews"] == before["previews"] + 1
    lavimo_blender.register()  # a second register (a reload) re-registers cleanly
    assert _world() == registered
    lavimo_blender.unregister()
    assert _world() == before
    lavimo_blender.register()
    assert _world() == registered
    lavimo_blender.unregister()
    assert _world() == before
    assert thumbnails._previews is None


def test_unregister_stops_a_running_timer_and_cancels_work(clean_scene):
    lavimo_blender.register()
    with timer_driven():
        job = bridge.start_thread("sleep", lambda j: __import__("time").sleep(0.2), lambda r: None, lambda e: None)
        assert bpy.app.timers.is_registered(bridge.drain)
        lavimo_blender.unregister()
        assert not bpy.app.timers.is_registered(bridge.drain)
    assert job.cancelled and not bridge.busy()


def test_enable_disable_through_addon_utils_and_preferences_use_package_name(clean_scene):
    module = addon_utils.enable(ADDON, default_set=True)
    try:
        assert module is lavimo_blender
        prefs = bpy.context.preferences.addons[ADDON].preferences
        assert type(prefs).bl_idname == ADDON == lavimo_blender.__package__
        assert prefs.top_k == 10 and prefs.device == 'cpu'
    finally:
        addon_utils.disable(ADDON, default_set=True)
    assert ADDON not in bpy.context.preferences.addons
    assert not hasattr(bpy.types, "LAVIMO_PT_search")


def test_loading_the_addon_imports_no_heavy_package():
    # A fresh interpreter: this test process may have imported torch for other tests.
    code = ("import sys, bpy, lavimo_blender; lavimo_blender.register(); "
            "heavy = [m for m in ('torch', 'transformers', 'av', 'mediapipe') if m in sys.modules]; "
            "lavimo_blender.unregister(); print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout


def test_panels_draw_without_results_and_offer_every_entry_point(addon):
    from lavimo_blender.apply.ui import LAVIMO_PT_apply, LAVIMO_PT_bone_map
    from lavimo_blender.library.ui import LAVIMO_PT_library
    from lavimo_blender.search.ui import LAVIMO_PT_results, LAVIMO_PT_search

    main = draw_panel(LAVIMO_PT_search)
    assert {"lavimo.search_text", "lavimo.search_video", "lavimo.find_similar"} <= set(main.operators())
    assert any("No store" in t for t in main.texts())  # fresh preferences: says what to set up
    assert "Search to list matching motions" in draw_panel(LAVIMO_PT_results).texts()
    assert "lavimo.apply" in draw_panel(LAVIMO_PT_apply).operators()
    assert "lavimo.detect_bones" in draw_panel(LAVIMO_PT_bone_map).operators()
    assert "lavimo.index_folder" in draw_panel(LAVIMO_PT_library).operators()


def test_file_handler_accepts_video_drops_on_the_3d_viewport_only(addon):
    from types import SimpleNamespace

    from lavimo_blender.search.ui import LAVIMO_FH_video

    assert LAVIMO_FH_video.bl_file_extensions == ".mp4;.mov;.mkv;.webm;.avi"
    assert LAVIMO_FH_video.bl_import_operator == "lavimo.drop_video"
    assert LAVIMO_FH_video.poll_drop(SimpleNamespace(area=SimpleNamespace(type='VIEW_3D')))
    assert not LAVIMO_FH_video.poll_drop(SimpleNamespace(area=SimpleNamespace(type='IMAGE_EDITOR')))
    assert not LAVIMO_FH_video.poll_drop(SimpleNamespace(area=None))
    assert bpy.ops.lavimo.drop_video.get_rna_type().properties["files"].type == 'COLLECTION'


def test_dependency_folder_is_the_extension_user_folder(addon):
    path = deps.site_packages()
    # Loaded as lavimo_blender (not bl_ext.*): the folder the installed extension "lavimo" would use.
    assert path.parts[-4:] == (".user", "user_default", "lavimo", "site-packages")
    assert str(path).startswith(bpy.utils.user_resource('EXTENSIONS'))
