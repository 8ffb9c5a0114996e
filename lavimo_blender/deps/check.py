"""Which Python packages LAVIMO needs are missing from Blender's Python, found without importing them."""

from __future__ import annotations

import importlib.util

# Import name -> what it is for (shown in the panel). numpy ships with Blender; the rest may not.
PACKAGES: dict[str, str] = {
    "numpy": "arrays",
    "scipy": "rotations",
    "safetensors": "model and store files",
    "tqdm": "progress",
    "torch": "the model",
    "transformers": "the text encoder",
    "av": "video decoding",
    "mediapipe": "pose detection in videos",
}

# What each feature needs: a search by text or motion, a search by video, applying a result, indexing BVH files.
NEEDS: dict[str, tuple[str, ...]] = {
    "text": ("numpy", "scipy", "safetensors", "tqdm", "torch", "transformers"),
    "motion": ("numpy", "scipy", "safetensors", "tqdm", "torch", "transformers"),
    "video": ("numpy", "scipy", "safetensors", "tqdm", "torch", "transformers", "av", "mediapipe"),
    "apply": ("numpy", "scipy", "safetensors"),
    "index": ("numpy", "scipy", "safetensors", "tqdm", "torch", "transformers"),
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
    return (f"LAVIMO needs {', '.join(names)} for this, and Blender's Python does not have "
            f"{'it' if len(names) == 1 else 'them'}: click \"Install dependencies\" in the LAVIMO panel "
            f"(3D Viewport > Sidebar > LAVIMO), then try again")
