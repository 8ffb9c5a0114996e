"""Blender tests run through the `bpy` module (Blender 5.0.1 in .venv, 4.5 LTS in .venv-bpy45)."""

import bpy
import pytest


@pytest.fixture
def clean_scene():
    """A factory-fresh scene, so tests never see each other's objects."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield bpy.context.scene
