"""Errors a user can cause with a video file; each message names the file and says what to do."""

from __future__ import annotations

from ..errors import LavimoError


class VideoError(LavimoError):
    """A video could not be turned into pose features."""


class NotAVideoError(VideoError):
    """The file is missing, not a media file, or has no video stream (e.g. audio only)."""


class CorruptVideoError(VideoError):
    """The container or the stream could not be decoded."""


class EmptyVideoError(VideoError):
    """The file (or the requested time range) holds no frames."""


class NoPersonError(VideoError):
    """No person was detected in any sampled frame."""
