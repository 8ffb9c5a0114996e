"""Which Python packages LAVIMO needs are missing from Blender's Python, found without importing them."""

from __future__ import annotations

import importlib.util

from . import bundle

# Import name -> what it is for (shown in the panel). numpy ships with Blender; the rest come as the
# extension's bundled wheels (or, on other platforms, from the Install dependencies fallback).
PACKAGES: dict[str, str] = {
    "numpy": "arrays",
    "safetensors": "model and store files",
    "tqdm": "progress",
    "onnxruntime": "the model",
    "tokenizers": "the text encoder",
    "av": "video decoding",
    "mediapipe": "pose detection in videos",
    "google.protobuf": "MediaPipe's graphs",
}

# What each feature needs: a search by text or motion, a search by video, applying a result, indexing BVH files.
_MODEL = ("numpy", "safetensors", "tqdm", "onnxruntime", "tokenizers")
NEEDS: dict[str, tuple[str, ...]] = {
    "text": _MODEL,
    "motion": _MODEL,
    "video": _MODEL + ("av", "mediapipe", "google.protobuf"),
    "apply": ("numpy", "safetensors"),
    "index": _MODEL,
}


def is_installed(name: str) -> bool:
    """True if `import name` would find the package (a module set to None in sys.modules counts as missing)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or half-imported package
        return False


def missing(feature: str | None = None) -> list[str]:
    """The packages `feature` needs (all of them when None) that are not installed."""
    names = NEEDS[feature] if feature else tuple(PACKAGES)
    return [name for name in names if not is_installed(name)]


def missing_message(feature: str, names: list[str]) -> str:
    """The error an operator reports when `feature` cannot run without `names`."""
    problem = bundle.platform_problem()
    if problem:
        return problem
    if bundle.bundled_packages():
        return (f"LAVIMO's bundled {', '.join(names)} {'is' if len(names) == 1 else 'are'} missing or damaged: "
                "remove LAVIMO and install its zip again (Preferences > Get Extensions > Install from Disk; no "
                "network needed), then restart Blender")
    return (f"LAVIMO needs {', '.join(names)} for this, and Blender's Python does not have "
            f"{'it' if len(names) == 1 else 'them'}: click \"Install dependencies\" in the LAVIMO panel "
            f"(3D Viewport > Sidebar > LAVIMO), then try again")
