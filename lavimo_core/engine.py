"""`Engine`: answers text, video and motion queries against a store, on a background worker thread.

    engine = Engine(embedder, store, on_result=show, on_progress=bar)   # the model is loaded once, by the caller
    rid = engine.submit(TextQuery("a person jumps forward"), k=10)      # returns at once
    engine.cancel(rid)                                                  # or let a newer submit supersede it
    result = engine.run(TextQuery("a person bows"))                     # synchronous (CLI, `blender -b`)

Every request ends in exactly one `Result`, delivered to `on_result(request_id, result)` and kept for
`wait(request_id)`: hits, or `error` (a message for the user), or `cancelled`. The worker catches every
exception, so it never dies silently; callbacks run on the worker thread (the add-on forwards them to
Blender's main thread). No bpy, and no torch import here: the embedder brings its own.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Union

import numpy as np

from .errors import LavimoError
from .motion.motion import Motion
from .store import Filters, Hit, QueryPart, Store

if TYPE_CHECKING:
    from .model.embedder import Embedder

log = logging.getLogger(__name__)

# A prompt longer than this is cut before tokenising (the text model reads at most a few dozen tokens anyway).
MAX_PROMPT_CHARS = 1000
# Below this fraction of frames with a detected person a video query still runs, with a warning.
LOW_DETECTION_RATE = 0.5
_KEEP_RESULTS = 256


class QueryError(LavimoError):
    """A query that cannot be answered as given (empty prompt, no model for this kind, bad weights)."""


@dataclass
class TextQuery:
    """A free-text description of a motion."""

    text: str


@dataclass
class VideoQuery:
    """A video file showing a person (optionally a time range in seconds)."""

    path: str
    start: float | None = None
    end: float | None = None


@dataclass
class MotionQuery:
    """Find motions similar to a motion: a stored one (motion_id), a loaded Motion, or a motion file (path)."""

    motion: Motion | None = None
    motion_id: str | None = None
    path: str | None = None


@dataclass
class CombinedQuery:
    """Several queries as one, e.g. [(TextQuery("jumps"), 0.7), (VideoQuery("clip.mp4"), 0.3)]."""

    parts: list[tuple["Query", float]]


Query = Union[TextQuery, VideoQuery, MotionQuery, CombinedQuery]


@dataclass
class Result:
    """The outcome of one request: hits, or an error message, or cancelled."""

    request_id: int
    query: Query | None = None
    hits: list[Hit] = field(default_factory=list)
    error: str | None = None
    cancelled: bool = False
    notices: list[str] = field(default_factory=list)  # things the user should know (prompt truncated, ...)
    no_match: bool = False  # no hit reaches the model's no-match threshold: the library has nothing like it
    # calibrated P(the library holds a match) from the best hit; < 1/2 exactly when a one-kind query is no_match.
    # NaN without hits, without a model, or with a checkpoint older than this calibration.
    library_probability: float = math.nan
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the request produced hits (possibly none) without error or cancellation."""
        return self.error is None and not self.cancelled

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"request_id": self.request_id, "ok": self.ok, "error": self.error, "cancelled": self.cancelled,
                "no_match": self.no_match, "library_probability": None if math.isnan(self.library_probability)
                else self.library_probability, "notices": list(self.notices), "seconds": round(self.seconds, 4),
                "hits": [h.to_dict() for h in self.hits]}


class _Cancelled(Exception):
    pass


@dataclass
class _Request:
    id: int
    query: Query
    k: int
    filters: Filters | None
    fold: bool
    cancel: threading.Event = field(default_factory=threading.Event)


ProgressCallback = Callable[[int, float, str], None]
ResultCallback = Callable[[int, Result], None]


class Engine:
    """One model and one store, answering queries on a worker thread. All public methods are thread-safe."""

    def __init__(self, embedder: "Embedder | None", store: Store, *, on_progress: ProgressCallback | None = None,
                 on_result: ResultCallback | None = None, supersede: bool = True, k: int = 10, fold: bool = True):
        if embedder is not None:
            store.attach(embedder)  # refuses a model the store was not built with
        self.embedder = embedder
        self.store = store
        self.on_progress = on_progress
        self.on_result = on_result
        self.supersede = supersede  # a new submit cancels queued and running requests
        self.k, self.fold = k, fold
        self._cond = threading.Condition()
        self._queue: collections.deque[_Request] = collections.deque()
        self._current: _Request | None = None
        self._results: collections.OrderedDict[int, Result] = collections.OrderedDict()
        self._next_id = 1
        self._closed = False
        self._thread: threading.Thread | None = None
        self._compute = threading.Lock()  # one query at a time through the model, whichever thread asks

    # ------------------------------------------------------------ public API

    def submit(self, query: Query, *, k: int | None = None, filters: Filters | None = None,
               fold: bool | None = None) -> int:
        """Queue a query; return its request id at once. With supersede on, older requests are cancelled."""
        with self._cond:
            if self._closed:
                raise LavimoError("the search engine was closed; create a new Engine")
            req = self._new_request(query, k, filters, fold)
            if self.supersede:
                for old in self._queue:
                    old.cancel.set()
                if self._current is not None:
                    self._current.cancel.set()
            self._queue.append(req)
            if self._thread is None:
                self._thread = threading.Thread(target=self._worker, name="lavimo-engine", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return req.id

    def cancel(self, request_id: int) -> bool:
        """Cancel a queued or running request; False if it already finished or is unknown."""
        with self._cond:
            for req in list(self._queue) + ([self._current] if self._current else []):
                if req.id == request_id:
                    req.cancel.set()
                    return True
        return False

    def wait(self, request_id: int, timeout: float | None = None) -> Result | None:
        """Block until request `request_id` has a result (None on timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while request_id not in self._results:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._results[request_id]

    def run(self, query: Query, *, k: int | None = None, filters: Filters | None = None,
            fold: bool | None = None) -> Result:
        """Answer a query in the calling thread (no worker, no callbacks); errors come back in the Result."""
        with self._cond:
            req = self._new_request(query, k, filters, fold)
        return self._answer(req, report=False)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel everything pending and stop the worker thread."""
        with self._cond:
            self._closed = True
            for req in self._queue:
                req.cancel.set()
            if self._current is not None:
                self._current.cancel.set()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def busy(self) -> bool:
        """Whether a request is queued or running."""
        with self._cond:
            return bool(self._queue) or self._current is not None

    # ------------------------------------------------------------ worker

    def _new_request(self, query, k, filters, fold) -> _Request:
        req = _Request(self._next_id, query, self.k if k is None else int(k), filters, self.fold if fold is None else fold)
        self._next_id += 1
        return req

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                req = self._queue.popleft()
                self._current = req
            try:
                result = self._answer(req, report=True)
            except BaseException as exc:  # last resort: the worker must survive anything
                log.exception("lavimo engine: unexpected failure")
                result = Result(req.id, req.query, error=f"internal error: {type(exc).__name__}: {exc}")
            with self._cond:
                self._current = None
            self._deliver(result)

    def _deliver(self, result: Result) -> None:
        with self._cond:
            self._results[result.request_id] = result
            while len(self._results) > _KEEP_RESULTS:
                self._results.popitem(last=False)
            self._cond.notify_all()
        if self.on_result is not None:
            try:
                self.on_result(result.request_id, result)
            except Exception:
                log.exception("lavimo engine: on_result callback failed")

    def _progress(self, req: _Request, report: bool, fraction: float, message: str) -> None:
        if req.cancel.is_set():
            raise _Cancelled
        if report and self.on_progress is not None:
            try:
                self.on_progress(req.id, fraction, message)
            except Exception:
                log.exception("lavimo engine: on_progress callback failed")
        if req.cancel.is_set():
            raise _Cancelled

    def _answer(self, req: _Request, report: bool) -> Result:
        t0 = time.perf_counter()
        result = Result(req.id, req.query)
        try:
            self._progress(req, report, 0.0, "starting")
            with self._compute, _one_torch_thread():
                parts, exclude = self._embed(req, report, result.notices)
                self._progress(req, report, 0.8, "searching")
                result.hits = self.store.search_combined(parts, k=req.k, filters=req.filters, fold=req.fold,
                                                         exclude=exclude)
            if not result.hits:
                result.no_match = True
                result.notices.append("no motion in the store passes the filters" if req.filters
                                      and not req.filters.is_empty() else "the store is empty")
            else:
                result.no_match = not any(h.is_match for h in result.hits)
                result.library_probability = self.store.library_probability(parts, result.hits[0].motion_id)
            self._progress(req, report, 1.0, "done")
        except _Cancelled:
            result = Result(req.id, req.query, cancelled=True, notices=result.notices)
        except LavimoError as exc:
            result = Result(req.id, req.query, error=str(exc), notices=result.notices)
        except Exception as exc:
            log.error("lavimo engine: query failed\n%s", traceback.format_exc())
            result = Result(req.id, req.query, error=f"unexpected error while answering the query: "
                                                     f"{type(exc).__name__}: {exc}", notices=result.notices)
        result.seconds = time.perf_counter() - t0
        return result

    # ------------------------------------------------------------ queries -> embeddings

    def _embed(self, req: _Request, report: bool, notices: list[str]) -> tuple[list[QueryPart], list[str]]:
        query = req.query
        if isinstance(query, CombinedQuery):
            if not query.parts:
                raise QueryError("a combined query needs at least one part")
            parts, exclude = [], []
            for i, item in enumerate(query.parts):
                try:
                    sub, weight = item
                    weight = float(weight)
                except (TypeError, ValueError):
                    raise QueryError(f"combined query part {i + 1} must be (query, weight)") from None
                if not weight > 0:
                    raise QueryError(f"combined query weights must be positive; part {i + 1} has {weight}")
                if isinstance(sub, CombinedQuery):
                    raise QueryError("combined queries cannot be nested")
                self._progress(req, report, 0.1 + 0.6 * i / len(query.parts), f"encoding {_kind(sub)} query")
                part, excl = self._embed_one(sub, notices)
                part.weight = weight
                parts.append(part)
                exclude += excl
            return parts, exclude
        self._progress(req, report, 0.1, f"encoding {_kind(query)} query")
        part, exclude = self._embed_one(query, notices)
        return [part], exclude

    def _embed_one(self, query: Query, notices: list[str]) -> tuple[QueryPart, list[str]]:
        if isinstance(query, TextQuery):
            text = prepare_prompt(query.text, self._require_model("text"), notices)
            return QueryPart(self.embedder.embed_text([text])[0], "text"), []
        if isinstance(query, VideoQuery):
            embedder = self._require_model("video")
            if getattr(embedder, "has_video", True) is False:
                raise QueryError("this model was trained without video, so it cannot search by video; "
                                 "use a tri-modal model")
            from .video.features import video_to_features
            video = video_to_features(query.path, start=query.start, end=query.end)
            present = np.asarray(video.present, dtype=bool)
            if not present.any():
                raise QueryError(f"no person was detected in any frame of {query.path}; use a video where the "
                                 "whole body is visible")
            if video.detection_rate < LOW_DETECTION_RATE:
                notices.append(f"a person was detected in only {video.detection_rate:.0%} of the frames of "
                               f"{os.path.basename(query.path)}; results may be poor")
            return QueryPart(embedder.embed_video([video])[0], "video"), []
        if isinstance(query, MotionQuery):
            return self._embed_motion(query)
        raise QueryError(f"unknown query type {type(query).__name__}; use TextQuery, VideoQuery, MotionQuery "
                         "or CombinedQuery")

    def _embed_motion(self, query: MotionQuery) -> tuple[QueryPart, list[str]]:
        given = [x is not None for x in (query.motion, query.motion_id, query.path)]
        if sum(given) != 1:
            raise QueryError("a motion query needs exactly one of: a motion, a stored motion id, or a file path")
        if query.motion_id is not None:  # stored embedding: no model needed
            return QueryPart(self.store.embedding(query.motion_id), "motion"), [query.motion_id]
        motion = query.motion
        if query.path is not None:
            from .motion.load import load_motion
            if not os.path.isfile(query.path):
                raise QueryError(f"motion file not found: {query.path}")
            motion = load_motion(query.path)
        embedder = self._require_model("motion")
        exclude = self.store.ids_from_source(motion.source.path) if motion.source.path else []
        return QueryPart(embedder.embed_motion([motion])[0], "motion"), exclude

    def _require_model(self, kind: str):
        if self.embedder is None:
            raise QueryError(f"no model is loaded, so {kind} queries cannot be encoded; set the model path "
                             "(the checkpoint folder the store was built with)")
        return self.embedder


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


def _kind(query: Query) -> str:
    return {TextQuery: "text", VideoQuery: "video", MotionQuery: "motion"}.get(type(query), "combined")


def prepare_prompt(text: object, embedder: "Embedder | None", notices: list[str]) -> str:
    """Check and tidy a text prompt; append notices for truncation and non-English text; raise QueryError if empty."""
    if not isinstance(text, str):
        raise QueryError(f"a text query must be a string, got {type(text).__name__}")
    text = " ".join(text.split())
    if not text:
        raise QueryError("the prompt is empty; describe the motion, e.g. \"a person jumps forward\"")
    if len(text) > MAX_PROMPT_CHARS:
        text = text[:MAX_PROMPT_CHARS]
        notices.append(f"the prompt was cut to its first {MAX_PROMPT_CHARS} characters")
    used, limit = _token_usage(embedder, text)
    if limit and used > limit:
        notices.append(f"the prompt is {used} tokens long; the text model reads only the first {limit}, "
                       "so the rest was ignored — put the important words first")
    letters = [c for c in text if c.isalpha()]
    if letters and sum(not c.isascii() for c in letters) / len(letters) > 0.3:
        notices.append("the text model was trained on English descriptions; a prompt in another language is "
                       "searched as is, but English usually gives better results")
    return text


def _token_usage(embedder: "Embedder | None", text: str) -> tuple[int, int]:
    """(tokens in `text`, tokens the text model reads); (0, 0) when there is no embedder to ask."""
    if embedder is None:
        return 0, 0
    return embedder.count_text_tokens(text), embedder.text_max_tokens
