"""Run inside a fresh Blender (bpy module) process: install a platform zip, then use LAVIMO with only its wheels.

    python blender_tests/bundled_run.py ZIP SCENARIO VIDEO OUT.json
    (SCENARIO: bundled, damaged, foreign, mismatch, old; or source: today's add-on from the source tree)

Right after `import bpy` the interpreter forgets every site-packages folder and the source tree, so what
imports afterwards is Blender's own (bpy, numpy) or came out of the zip's bundled wheels. Prints nothing
the test relies on; writes what it measured and saw to OUT.json.
"""

import importlib
import importlib.util
import json
import os
import site
import sys
import time

T0 = time.perf_counter()
import bpy  # noqa: E402
import numpy  # noqa: E402,F401  (Blender ships numpy 1.26: it stays)

HEAVY = ("torch", "transformers", "jax", "jaxlib", "cv2", "matplotlib", "sounddevice", "scipy")
NAME = "bl_ext.user_default.lavimo"


def isolate() -> None:
    """Forget the venv's site-packages and the source tree: only Blender's modules and the zip's wheels remain."""
    dropped = set(site.getsitepackages() + [site.getusersitepackages(), os.getcwd(), ""])
    dropped |= set(filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    sys.path[:] = [p for p in sys.path if p not in dropped]
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()


def heavy_modules() -> list[str]:
    return sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))


def run(zip_path: str, scenario: str, video: str) -> dict:
    out: dict = {"scenario": scenario}
    t = time.perf_counter()
    try:
        installed = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                             enable_on_install=True)
    except RuntimeError as exc:  # what Blender's install dialog shows
        out["install_error"] = str(exc)
        return out
    out["install_seconds"] = time.perf_counter() - t
    out["installed"] = sorted(installed)
    if importlib.util.find_spec(NAME) is None:   # Blender refused it and said why on its console
        out["install_error"] = f"Blender did not install the zip ({sorted(installed)})"
        return out
    out["enable_seconds"] = reload_seconds(NAME)
    addon = importlib.import_module(NAME)
    deps = importlib.import_module(NAME + ".deps")
    out["missing"] = deps.check.missing()
    out["platform_problem"] = deps.bundle.platform_problem()
    layout = _panel_texts()
    out["panel"] = layout
    wm = bpy.context.window_manager
    if scenario == "bundled":
        out.update(_queries(video))
        if os.environ.get("LAVIMO_TEST_LANDMARKS"):
            _landmarks(video, os.environ["LAVIMO_TEST_LANDMARKS"])
    elif scenario in ("mismatch", "old"):
        prefs = bpy.context.preferences.addons[NAME].preferences
        prefs.model_path = os.environ["LAVIMO_TEST_MODEL"]
        wm.lavimo.prompt = "a person walks forward"
        out["error"] = _error(bpy.ops.lavimo.search_text)
    elif scenario in ("damaged", "missing"):
        if scenario == "missing":   # a bundled package gone from Blender's extension site-packages
            import glob
            import shutil
            site_dir = glob.glob(bpy.utils.user_resource("EXTENSIONS") + "/.local/lib/python3*/site-packages")[0]
            shutil.rmtree(os.path.join(site_dir, "tokenizers"))
            importlib.invalidate_caches()
            out["missing"] = deps.check.missing()
            out["panel"] = _panel_texts()
        wm.lavimo.prompt = "a person walks forward"
        out["error"] = _error(bpy.ops.lavimo.search_text)
    out["heavy"] = heavy_modules()
    out["lavimo_core"] = sys.modules["lavimo_core"].__file__ if "lavimo_core" in sys.modules else None
    del addon
    return out


def reload_seconds(name: str) -> float:
    """Seconds to import and register the add-on afresh with its packages in place (what each Blender start does).

    Not addon_utils.disable/enable: for an extension those also remove and unpack its wheels again.
    """
    sys.modules[name].unregister()
    for m in [m for m in sys.modules if m == name or m.startswith((name + ".", "lavimo_core"))]:
        del sys.modules[m]
    t = time.perf_counter()
    importlib.import_module(name).register()
    return time.perf_counter() - t


def run_source(video: str) -> dict:
    """Today's path for comparison: the add-on from the source tree, the venv's packages, the torch embedder."""
    global NAME
    import addon_utils
    NAME = "lavimo_blender"
    addon_utils.enable(NAME, default_set=True)
    out = {"scenario": "source", "enable_seconds": reload_seconds(NAME)}
    prefs = bpy.context.preferences.addons[NAME].preferences
    prefs.model_path = os.environ["LAVIMO_TEST_MODEL"]
    prefs.stores.add().path = os.environ["LAVIMO_TEST_STORE"]
    out.update(_queries(video))
    out["heavy"] = heavy_modules()
    return out


def _queries(video: str) -> dict:
    wm = bpy.context.window_manager
    out: dict = {}
    t = time.perf_counter()
    wm.lavimo.prompt = "a person walks forward"
    assert bpy.ops.lavimo.search_text() == {"FINISHED"}
    out["first_text_seconds"] = time.perf_counter() - t
    out["text_hits"] = [r.name for r in wm.lavimo.results]
    times = []
    for prompt in ("a person bows", "someone runs in a circle", "a person waves with both hands"):
        wm.lavimo.prompt = prompt
        t = time.perf_counter()
        assert bpy.ops.lavimo.search_text() == {"FINISHED"}
        times.append(time.perf_counter() - t)
    out["warm_text_seconds"] = sorted(times)[1]
    session = importlib.import_module(NAME + ".engine_session").current()
    out["embedder"] = type(session.embedder).__name__
    wm.lavimo.video_path = video
    times = []
    for _ in range(3):
        t = time.perf_counter()
        assert bpy.ops.lavimo.search_video() == {"FINISHED"}
        times.append(time.perf_counter() - t)
    out["video_seconds"], out["video_queries"] = sorted(times)[1], len(times)
    out["video_hits"] = [r.name for r in wm.lavimo.results]
    # Find similar: a stored clip applied to a rig (the retargeting path, numpy only), read back, searched.
    rig = importlib.import_module(NAME + ".apply.rig_builder").build_armature("mixamo")
    bpy.context.view_layer.objects.active = rig
    rig.select_set(True)
    store = session.store
    motion_id = store.ids()[10]
    importlib.import_module(NAME + ".apply.core").apply_motion(bpy.context, rig, store.motion(motion_id))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        assert bpy.ops.lavimo.find_similar() == {"FINISHED"}
        times.append(time.perf_counter() - t)
    out["similar_seconds"] = sorted(times)[1]
    listed = list(wm.lavimo.results)
    out["similar_found"] = motion_id in ({r.motion_id for r in listed}
                                         | {i for r in listed for i in r.folded_ids.split(",") if i})
    return out


def _landmarks(video: str, out: str) -> None:
    """The video's raw MediaPipe landmarks through the bundled (slimmed) wheels, saved for the test to compare."""
    import numpy as np

    from lavimo_core.video.decode import iter_frames
    from lavimo_core.video.features import VIDEO_FPS
    from lavimo_core.video.pose import MediaPipePoseFeaturizer
    track = MediaPipePoseFeaturizer().raw_track(iter_frames(video, fps=VIDEO_FPS), VIDEO_FPS)
    np.savez(out, image=track.image, world=track.world, visibility=track.visibility, present=track.present)


def _error(op) -> str | None:
    try:
        op()
    except RuntimeError as exc:
        return str(exc)
    return None


def _panel_texts() -> list[str]:
    texts: list[str] = []

    class Layout:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                if kwargs.get("text"):
                    texts.append(kwargs["text"])
                return Layout()
            return call
    deps_ui = importlib.import_module(NAME + ".deps.ui")
    deps_ui.draw(Layout(), bpy.context)
    return texts


if __name__ == "__main__":
    zip_path, scenario, video, report = sys.argv[1:5]
    if scenario == "source":
        result = run_source(video)
    else:
        isolate()
        result = run(zip_path, scenario, video)
    result["total_seconds"] = time.perf_counter() - T0
    with open(report, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    sys.stdout.flush()
    # Skip the C exit handlers: bpy 4.5's module can deadlock in its own GlobalState destructor at exit
    # (seen here: the main thread in pthread_cond_destroy while bpy's delayed-close thread waits on it).
    os._exit(0)
