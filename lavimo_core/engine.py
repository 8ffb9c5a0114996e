"""`Engine`: answers queries (query.py) against a store, on a background worker thread.

    engine = Engine(embedder, store)                                  # the model is loaded once, by the caller
    future = engine.submit(TextQuery("a person jumps forward"), k=10, on_progress=bar)   # returns at once
    future.add_done_callback(show)                                    # or future.result(timeout)
    future.cancel()                                                   # or let a newer submit supersede it
    result = engine.run(TextQuery("a person bows"))                   # synchronous (CLI, `blender -b`)

`submit` returns a `concurrent.futures.Future` that ends in exactly one `Result` (hits, or `error`: a
message for the user) unless it is cancelled; cancelling works while the query runs too (the worker
stops at its next step). The worker catches every exception, so it never dies silently; callbacks run
on the worker thread (the add-on forwards them to Blender's main thread). No bpy, and no torch import
here: the embedder brings its own.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sys
import threading
import time
import traceback
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import LavimoError
from .query import Progress, Query, embed_query
from .store import Filters, Hit, Store
from .store.search import knows_wording

if TYPE_CHECKING:
    from .model.embedder import Embedder

log = logging.getLogger(__name__)


@dataclass
class Result:
    """The outcome of one query: hits, or an error message."""

    query: Query | None = None
    hits: list[Hit] = field(default_factory=list)
    error: str | None = None
    notices: list[str] = field(default_factory=list)  # things the user should know (prompt truncated, ...)
    no_match: bool = False  # no hit reaches the model's no-match threshold: the library has nothing like it
    # calibrated P(the library holds a match) from the best hit; < 1/2 exactly when a one-kind query is no_match.
    # None without hits, without a model, or with a checkpoint older than this calibration.
    library_probability: float | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the query produced hits (possibly none) without error."""
        return self.error is None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"ok": self.ok, "error": self.error, "no_match": self.no_match,
                "library_probability": self.library_probability, "notices": list(self.notices),
                "seconds": round(self.seconds, 4), "hits": [h.to_dict() for h in self.hits]}


class _Cancelled(Exception):
    pass


@dataclass
class _Request:
    query: Query
    k: int
    filters: Filters | None
    fold: bool
    on_progress: Progress | None = None
    # Kept pending (never marked running) until its Result is set, so future.cancel() works while it runs:
    # the worker checks future.cancelled() between steps.
    future: Future = field(default_factory=Future)


class Engine:
    """One model and one store, answering queries on a worker thread. All public methods are thread-safe."""

    def __init__(self, embedder: Embedder | None, store: Store, *, supersede: bool = True, k: int = 10,
                 fold: bool = True):
        if embedder is not None:
            store.attach(embedder)  # refuses a model the store was not built with
        self.embedder = embedder
        self.store = store
        self.supersede = supersede  # a new submit cancels queued and running requests
        self.k, self.fold = k, fold
        self._cond = threading.Condition()
        self._queue: collections.deque[_Request] = collections.deque()
        self._current: _Request | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self._compute = threading.Lock()  # one query at a time through the model, whichever thread asks

    # ------------------------------------------------------------ public API

    def submit(self, query: Query, *, k: int | None = None, filters: Filters | None = None, fold: bool | None = None,
               on_progress: Progress | None = None) -> Future[Result]:
        """Queue a query; return a Future of its Result at once. With supersede on, older requests are cancelled.

        `on_progress(fraction, message)` is called on the worker thread as the query advances.
        """
        try:
            req = self._request(query, k, filters, fold, on_progress)
        except LavimoError as exc:  # a bad argument is an error Result, like any other bad input
            future: Future[Result] = Future()
            future.set_result(Result(query, error=str(exc)))
            return future
        with self._cond:
            if self._closed:
                raise LavimoError("the search engine was closed; create a new Engine")
            if self.supersede:
                self._cancel_pending()
            self._queue.append(req)
            if self._thread is None:
                self._thread = threading.Thread(target=self._worker, name="lavimo-engine", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return req.future

    def run(self, query: Query, *, k: int | None = None, filters: Filters | None = None,
            fold: bool | None = None) -> Result:
        """Answer a query in the calling thread (no worker); errors come back in the Result."""
        try:
            req = self._request(query, k, filters, fold, None)
        except LavimoError as exc:
            return Result(query, error=str(exc))
        return self._answer(req)

    def close(self, timeout: float = 10.0) -> bool:
        """Cancel everything pending and stop the worker thread; True once it has stopped (within `timeout` s).

        A running query notices the cancel at its next step (a video query: between frames), so the worker
        is gone well within a second; False (logged) only if a single step outlasts `timeout`.
        """
        with self._cond:
            self._closed = True
            self._cancel_pending()
            self._cond.notify_all()
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("lavimo engine: the worker was still busy %.1f s after close(); it stops at its next step",
                        timeout)
        return not thread.is_alive()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def busy(self) -> bool:
        """Whether a request is queued or running."""
        with self._cond:
            return bool(self._queue) or self._current is not None

    # ------------------------------------------------------------ worker

    def _request(self, query, k, filters, fold, on_progress) -> _Request:
        k = self.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise LavimoError(f"the number of results must be a whole number >= 1, got {k!r}")
        if filters is not None:
            filters.validate()
        return _Request(query, k, filters, self.fold if fold is None else fold, on_progress)

    def _cancel_pending(self) -> None:
        # Called under self._cond. Future.cancel runs the futures' done callbacks here, in the caller's thread.
        for req in list(self._queue) + ([self._current] if self._current else []):
            req.future.cancel()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                req = self._queue.popleft()
                if req.future.cancelled():
                    continue
                self._current = req
            try:
                result = self._answer(req)
            except _Cancelled:
                result = None
            except BaseException as exc:  # last resort: the worker must survive anything
                log.exception("lavimo engine: unexpected failure")
                result = Result(req.query, error=f"internal error: {type(exc).__name__}: {exc}")
            with self._cond:
                self._current = None
            if result is not None:
                with contextlib.suppress(InvalidStateError):  # cancelled just as it finished
                    req.future.set_result(result)

    def _progress(self, req: _Request, fraction: float, message: str) -> None:
        if req.future.cancelled():
            raise _Cancelled
        if req.on_progress is not None:
            try:
                req.on_progress(fraction, message)
            except Exception:
                log.exception("lavimo engine: on_progress callback failed")
        if req.future.cancelled():
            raise _Cancelled

    def _answer(self, req: _Request) -> Result:
        """The Result of a request; raises _Cancelled when its future is cancelled before the end."""
        t0 = time.perf_counter()
        result = Result(req.query)
        try:
            self._progress(req, 0.0, "starting")
            with self._compute, _one_torch_thread():
                parts, exclude = embed_query(req.query, self.embedder, self.store, result.notices,
                                             lambda f, m: self._progress(req, f, m))
                self._progress(req, 0.8, "searching")
                result.hits = self.store.search_combined(parts, k=req.k, filters=req.filters, fold=req.fold,
                                                         exclude=exclude)
            if not result.hits:
                result.no_match = True
                result.notices.append(_why_no_hits(self.store, req, exclude))
            else:
                result.no_match = not any(h.is_match for h in result.hits)
                result.library_probability = self.store.library_probability(parts, result.hits[0].motion_id)
                if not knows_wording(self.store.calibration, parts):
                    result.notices.append("The model was trained on no action worded like this (its nearest "
                                          "training caption is far off), so these hits are guesses: try other "
                                          "words, or a video or motion of what you want.")
            self._progress(req, 1.0, "done")
        except _Cancelled:
            raise
        except LavimoError as exc:
            result = Result(req.query, error=str(exc), notices=result.notices)
        except Exception as exc:
            log.error("lavimo engine: query failed\n%s", traceback.format_exc())
            result = Result(req.query, error=f"unexpected error while answering the query: "
                                             f"{type(exc).__name__}: {exc}", notices=result.notices)
        result.seconds = time.perf_counter() - t0
        return result


def _why_no_hits(store: Store, req: _Request, exclude: list[str]) -> str:
    """Say why a search returned nothing (an empty store is only one of the reasons)."""
    if len(store) == 0:
        return "the store is empty"
    if req.filters is not None and not req.filters.is_empty():
        return "no motion in the store passes the filters"
    if exclude:
        return ("every other motion in the store is the query motion itself, its mirror image or a near-duplicate "
                "of it" + (" (search without folding to list them)" if req.fold else ""))
    return "no motion matched"


@contextlib.contextmanager
def _one_torch_thread():
    """Encode a single query on one torch thread, then restore the previous setting.

    One short query has little to split, and on a busy CPU (Blender drawing, other processes) each of the
    hundreds of small ops in a forward pass waits for every worker thread to be scheduled: measured on 2
    loaded cores, a text query took ~20 ms on one thread and over 1 s on two.
    """
    torch = sys.modules.get("torch")  # the embedder has imported it; never import it here
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
