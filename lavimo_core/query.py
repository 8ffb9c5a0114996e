"""What a user can search by (text, video, a motion; or a weighted mix), and turning a query into embeddings.

    parts, exclude = embed_query(TextQuery("a person jumps"), embedder, store, notices, progress)

`embed_query` is the only place that knows how each kind of query is encoded; the engine (engine.py)
schedules it and the store (store/search.py) ranks the embeddings it returns. No torch import here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import LavimoError
from .motion.motion import Motion
from .store import QueryPart, Store

if TYPE_CHECKING:
    from .model.embedder import Embedder

# A prompt longer than this is cut before tokenising (the text model reads at most a few dozen tokens anyway).
MAX_PROMPT_CHARS = 1000
# Below this fraction of frames with a detected person a video query still runs, with a warning.
LOW_DETECTION_RATE = 0.5


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
    """Find motions similar to a loaded Motion (e.g. an action read from Blender)."""

    motion: Motion


@dataclass
class StoredMotionQuery:
    """Find motions similar to one already in the store (its stored embedding: no model needed)."""

    motion_id: str


@dataclass
class MotionFileQuery:
    """Find motions similar to the motion in a file (BVH, ...)."""

    path: str


@dataclass
class CombinedQuery:
    """Several queries as one, e.g. [(TextQuery("jumps"), 0.7), (VideoQuery("clip.mp4"), 0.3)]."""

    parts: list[tuple[Query, float]]


Query = TextQuery | VideoQuery | MotionQuery | StoredMotionQuery | MotionFileQuery | CombinedQuery
Progress = Callable[[float, str], None]  # (fraction, message); may raise to stop the work


def kind_of(query: Query) -> str:
    """"text", "video", "motion" or "combined"."""
    if isinstance(query, (MotionQuery, StoredMotionQuery, MotionFileQuery)):
        return "motion"
    return {TextQuery: "text", VideoQuery: "video"}.get(type(query), "combined")


def needs_model(query: Query) -> bool:
    """Whether answering `query` needs the model (a stored motion's embedding is already in the store)."""
    if isinstance(query, CombinedQuery):
        return any(needs_model(q) for q, _ in query.parts)
    return not isinstance(query, StoredMotionQuery)


def embed_query(query: Query, embedder: Embedder | None, store: Store, notices: list[str],
                progress: Progress) -> tuple[list[QueryPart], list[str]]:
    """The query's embeddings (one part per modality, weighted) and the motion ids to leave out of its results."""
    if not isinstance(query, CombinedQuery):
        progress(0.1, f"encoding {kind_of(query)} query")
        part, exclude = _embed_one(query, embedder, store, notices, lambda i: progress(0.1, f"video frame {i + 1}"))
        return [part], exclude
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
        at = 0.1 + 0.6 * i / len(query.parts)
        progress(at, f"encoding {kind_of(sub)} query")
        part, excl = _embed_one(sub, embedder, store, notices, lambda n, at=at: progress(at, f"video frame {n + 1}"))
        part.weight = weight
        parts.append(part)
        exclude += excl
    return parts, exclude


def _embed_one(query: Query, embedder: Embedder | None, store: Store, notices: list[str],
               on_frame: Callable[[int], None] | None = None) -> tuple[QueryPart, list[str]]:
    if isinstance(query, StoredMotionQuery):  # stored embedding: no model needed
        return QueryPart(store.embedding(query.motion_id), "motion"), [query.motion_id]
    if isinstance(query, TextQuery):
        model = _require(embedder, "text")
        return QueryPart(model.embed_text([prepare_prompt(query.text, model, notices)])[0], "text"), []
    if isinstance(query, VideoQuery):
        return QueryPart(_embed_video(query, _require(embedder, "video"), notices, on_frame), "video"), []
    if isinstance(query, MotionFileQuery):
        from .motion.load import load_motion
        if not os.path.isfile(query.path):
            raise QueryError(f"motion file not found: {query.path}")
        query = MotionQuery(load_motion(query.path))
    if isinstance(query, MotionQuery):
        motion = query.motion
        exclude = store.ids_from_source(motion.source.path) if motion.source.path else []
        return QueryPart(_require(embedder, "motion").embed_motion([motion])[0], "motion"), exclude
    raise QueryError(f"unknown query type {type(query).__name__}; use TextQuery, VideoQuery, MotionQuery, "
                     "StoredMotionQuery, MotionFileQuery or CombinedQuery")


def _embed_video(query: VideoQuery, embedder: Embedder, notices: list[str],
                 on_frame: Callable[[int], None] | None = None) -> np.ndarray:
    if getattr(embedder, "has_video", True) is False:
        raise QueryError("this model was trained without video, so it cannot search by video; use a tri-modal model")
    _check_times(query)
    from .video.features import video_to_features
    # on_frame: the engine's progress, which raises when the query is cancelled (checked between frames)
    video = video_to_features(query.path, start=query.start, end=query.end, on_frame=on_frame)
    if not np.asarray(video.present, dtype=bool).any():
        raise QueryError(f"no person was detected in any frame of {query.path}; use a video where the "
                         "whole body is visible")
    notices.append(video.describe())
    if video.detection_rate < LOW_DETECTION_RATE:
        notices.append(f"a person was detected in only {video.detection_rate:.0%} of the frames of "
                       f"{os.path.basename(query.path)}; results may be poor")
    return embedder.embed_video([video])[0]


def _check_times(query: VideoQuery) -> None:
    """Refuse NaN, negative or inverted --start/--end with a message (they used to reach the decoder)."""
    for what, t in (("start", query.start), ("end", query.end)):
        if t is not None and not (isinstance(t, (int, float)) and math.isfinite(t) and t >= 0):
            raise QueryError(f"video {what} must be a number of seconds >= 0, got {t!r}")
    if query.start is not None and query.end is not None and query.end <= query.start:
        raise QueryError(f"video end ({query.end:g} s) must be after its start ({query.start:g} s)")


def _require(embedder: Embedder | None, kind: str) -> Embedder:
    if embedder is None:
        raise QueryError(f"no model is loaded, so {kind} queries cannot be encoded; set the model path "
                         "(the checkpoint folder the store was built with)")
    return embedder


def prepare_prompt(text: object, embedder: Embedder | None, notices: list[str]) -> str:
    """Check and tidy a text prompt; append notices for truncation and non-English text; raise QueryError if empty."""
    if not isinstance(text, str):
        raise QueryError(f"a text query must be a string, got {type(text).__name__}")
    text = " ".join(text.split())
    if not text:
        raise QueryError("the prompt is empty; describe the motion, e.g. \"a person jumps forward\"")
    if len(text) > MAX_PROMPT_CHARS:
        text = text[:MAX_PROMPT_CHARS]
        notices.append(f"the prompt was cut to its first {MAX_PROMPT_CHARS} characters")
    if embedder is not None:
        used, limit = embedder.count_text_tokens(text), embedder.text_max_tokens
        if limit and used > limit:
            notices.append(f"the prompt is {used} tokens long; the text model reads only the first {limit}, "
                           "so the rest was ignored — put the important words first")
    letters = [c for c in text if c.isalpha()]
    if letters and sum(not c.isascii() for c in letters) / len(letters) > 0.3:
        notices.append("the text model was trained on English descriptions; a prompt in another language is "
                       "searched as is, but English usually gives better results")
    return text
