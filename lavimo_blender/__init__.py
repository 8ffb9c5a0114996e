"""LAVIMO for Blender: search a motion library by text, video or motion and apply hits to your rig."""

import bpy


def register() -> None:
    """Register the add-on's classes."""


def unregister() -> None:
    """Unregister everything register() added."""
