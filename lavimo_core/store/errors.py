"""Errors a user can cause with a store: missing, corrupt, from another format version or another model."""

from __future__ import annotations

from ..errors import LavimoError


class StoreError(LavimoError):
    """Something is wrong with a store or with how it is used; the message says what to do."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store at the given path."""


class StoreCorruptError(StoreError):
    """A store file is missing, truncated or unreadable."""


class StoreVersionError(StoreError):
    """The store was written in a format version this code cannot read."""


class StoreModelMismatchError(StoreError):
    """The store was built with a different model than the one given."""


class StoreBusyError(StoreError):
    """Another process is writing to the store."""
