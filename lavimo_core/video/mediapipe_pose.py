"""MediaPipe's Pose solution without the rest of MediaPipe: the same graph and models, a fraction of the imports.

`import mediapipe` runs mediapipe/__init__.py, which imports every solution and task: the drawing
utilities pull in OpenCV and matplotlib, the audio tasks sounddevice (and those their own
dependencies). The pose graph needs none of them; it runs in MediaPipe's C++ bindings and needs only
numpy and protobuf. So the two package __init__ files are skipped and only the pose module is loaded
(measured: 0.25 s and 4 packages instead of 2.2 s and 15).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types


def pose_solution() -> types.ModuleType:
    """`mediapipe.python.solutions.pose`, imported without mediapipe's umbrella __init__ files."""
    loaded = sys.modules.get("mediapipe.python.solutions.pose")
    if loaded is not None:
        return loaded
    # MediaPipe's C++ logs a few lines per graph to stderr; keep only errors unless the user asked.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "mediapipe" not in sys.modules:
        spec = importlib.util.find_spec("mediapipe")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("No module named 'mediapipe'", name="mediapipe")
        root = list(spec.submodule_search_locations)[0]
        _package("mediapipe", root).__version__ = mediapipe_version()
        importlib.import_module("mediapipe.python")  # the C++ bindings (numpy, protobuf)
        _package("mediapipe.python.solutions", os.path.join(root, "python", "solutions"))
    return importlib.import_module("mediapipe.python.solutions.pose")


def mediapipe_version() -> str:
    """The installed MediaPipe's version, read from its metadata (no import)."""
    from importlib.metadata import version
    return version("mediapipe")


def _package(name: str, folder: str) -> types.ModuleType:
    """An empty package module for `folder`: its submodules import, its own __init__.py does not run."""
    module = types.ModuleType(name)
    module.__path__ = [folder]
    module.__package__ = name
    # A spec, so importlib.util.find_spec(name) still answers (the add-on's package check asks it).
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__spec__.submodule_search_locations = [folder]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module
