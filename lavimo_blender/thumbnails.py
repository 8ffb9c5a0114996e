"""Result thumbnails: pose strips drawn from each motion, kept as icons in one preview collection."""

from __future__ import annotations

import bpy
import bpy.utils.previews

# Square, so the icon is not squashed in list rows; big enough for the enlarged view under the list.
SIZE = 128
MAX_ICONS = 400  # results of many searches: drop the oldest icons past this

# The preview collection, alive between register() and unregister(): only they rebind it, on the main
# thread (bpy.utils.previews' own pattern); everything else reads it there too.
_previews = None


def icon_id(key: str) -> int:
    """The icon of a result (0 when it has no thumbnail yet)."""
    if _previews is None or key not in _previews:
        return 0
    return _previews[key].icon_id


def has(key: str) -> bool:
    """True once a thumbnail for `key` was stored."""
    return _previews is not None and key in _previews


def store_pixels(key: str, image) -> None:
    """Store an (H, W, 3|4) uint8 image (top row first) as the icon for `key`; main thread only."""
    import numpy as np

    if _previews is None:
        return
    if len(_previews) >= MAX_ICONS:
        _previews.clear()
    image = np.asarray(image)
    h, w, channels = image.shape
    rgba = np.ones((h, w, 4), dtype=np.float32)
    rgba[..., :channels] = image[::-1] / 255.0  # Blender's pixel rows run bottom-up
    preview = _previews[key] if key in _previews else _previews.new(key)
    preview.image_size = (w, h)
    preview.image_pixels_float.foreach_set(rgba.ravel())


def render_strip(motion, size: int = SIZE):
    """A pose strip of `motion` as a (size, size, 4) uint8 RGBA image; any thread (no bpy)."""
    from lavimo_core.preview import pose_strip

    return pose_strip(motion, size=(size, size))


def register() -> None:
    """Open the preview collection."""
    global _previews
    if _previews is None:
        _previews = bpy.utils.previews.new()


def unregister() -> None:
    """Free the preview collection."""
    global _previews
    if _previews is not None:
        bpy.utils.previews.remove(_previews)
        _previews = None
