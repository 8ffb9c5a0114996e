"""The motion store: embeddings + canonical motions + metadata on disk (format.py), exact top-k search with
filters (search.py), mirror/near-duplicate folding (folding.py). No torch at import time."""

from .errors import (StoreBusyError, StoreCorruptError, StoreError, StoreModelMismatchError, StoreNotFoundError,
                     StoreVersionError)
from .encode import BuildCancelled
from .format import FORMAT_VERSION, ModelIdentity
from .search import Filters
from .store import KINDS, Hit, QueryPart, Store

__all__ = ["Store", "Hit", "QueryPart", "Filters", "ModelIdentity", "FORMAT_VERSION", "KINDS", "BuildCancelled",
           "StoreError", "StoreNotFoundError", "StoreCorruptError", "StoreVersionError", "StoreModelMismatchError",
           "StoreBusyError"]
