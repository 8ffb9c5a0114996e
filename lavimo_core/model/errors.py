"""Errors of the model, its checkpoints and its inputs: each says what went wrong and what to do."""

from __future__ import annotations

from ..errors import LavimoError


class ConfigError(LavimoError, ValueError):
    """A model/training configuration is malformed (unknown key, wrong type, bad value)."""


class TextModelError(LavimoError):
    """The pretrained text model is missing offline, or its weights are not the expected ones."""


class CheckpointError(LavimoError):
    """A checkpoint folder is missing files, is corrupt, or does not match this code or its config."""


class InputShapeError(LavimoError, ValueError):
    """Features handed to the model have the wrong shape (e.g. not 263 motion features per frame)."""


class EmptyDatasetError(LavimoError, ValueError):
    """A dataset (or one of its splits) has no usable clips to train or evaluate on."""
