"""The motion store: embeddings + canonical motions + metadata on disk (store.py, format.py, records.py), ranking
(search.py) over an exact cosine scan (scan.py) or a faiss index (faiss_index.py), filters (filters.py),
mirror/near-duplicate folding (folding.py). No torch at import time."""

from .errors import (StoreBusyError, StoreCorruptError, StoreError, StoreModelMismatchError, StoreNotFoundError,
                     StoreVersionError)
from .encode import BuildCancelled
from .format import FORMAT_VERSION, ModelIdentity
from .filters import Filters
from .records import MotionRecord
from .search import KINDS, Hit, QueryPart
from .store import Store

__all__ = ["Store", "MotionRecord", "Hit", "QueryPart", "Filters", "ModelIdentity", "FORMAT_VERSION", "KINDS", "BuildCancelled",
           "StoreError", "StoreNotFoundError", "StoreCorruptError", "StoreVersionError", "StoreModelMismatchError",
           "StoreBusyError"]
