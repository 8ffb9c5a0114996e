"""Engine edge cases from a hostile session: bad arguments come back as error Results, cancel reaches a video
query between frames, close() really stops the worker, and an empty answer says why."""

from __future__ import annotations

import math
import threading
import time

import pytest

from lavimo_core.engine import Engine
from lavimo_core.paths import find_dataset
from lavimo_core.query import StoredMotionQuery, TextQuery, VideoQuery
from lavimo_core.store import Filters, Store

LONG_CLIP = find_dataset("real-video-dev") / "walking" / "kalininator_walk_room.mp4"  # 40 s: 400 sampled frames


@pytest.mark.parametrize("k", ["abc", "3", 0, -3, 2.5, True])
def test_a_bad_k_is_an_error_result_not_an_exception(store, k):
    engine = Engine(None, store)
    query = StoredMotionQuery(store.ids()[0])
    result = engine.submit(query, k=k).result(timeout=30)  # used to raise ValueError from submit
    assert not result.ok and "whole number >= 1" in result.error
    assert "whole number >= 1" in engine.run(query, k=k).error
    engine.close()


@pytest.mark.parametrize("filters, words", [(Filters(min_duration=math.nan), "minimum duration"),
                                            (Filters(max_duration=-1.0), "maximum duration"),
                                            (Filters(min_duration=5.0, max_duration=2.0), "no motion could match")])
def test_bad_duration_filters_are_refused(store, filters, words):
    # NaN and min > max used to filter everything out silently ("no motion passes the filters").
    result = Engine(None, store).run(StoredMotionQuery(store.ids()[0]), filters=filters)
    assert not result.ok and words in result.error


def test_similar_where_every_other_motion_is_a_duplicate_says_so(store, tmp_path):
    first = store.ids()[0]
    small = Store.create(tmp_path / "dups", store.model)
    m = store.motion(first)
    e, mirror = store.embedding(first)[None], store.embedding(first, mirror=True)[None]
    small.add([m], embeddings=e, mirror_embeddings=mirror)
    small.add([m], embeddings=e, mirror_embeddings=mirror)  # a second copy of the same take
    result = Engine(None, small).run(StoredMotionQuery(first))
    assert result.ok and not result.hits
    assert "the store is empty" not in result.notices and "near-duplicate" in result.notices[0]


@pytest.mark.parametrize("start, end, words", [(3.0, 1.0, "must be after"), (math.nan, None, "start must be"),
                                               (-1.0, None, "start must be"), (None, math.inf, "end must be")])
def test_bad_video_times_are_error_results(embedder, store, start, end, words):
    result = Engine(embedder, store).run(VideoQuery(str(LONG_CLIP), start, end))
    assert not result.ok and words in result.error


def test_cancel_reaches_a_video_query_between_frames_and_close_stops_the_worker(embedder, store):
    engine = Engine(embedder, store)
    frames_seen = threading.Event()
    seen = []

    def progress(fraction, message):
        seen.append(message)
        if message.startswith("video frame 3"):
            frames_seen.set()

    future = engine.submit(VideoQuery(str(LONG_CLIP)), on_progress=progress)
    assert frames_seen.wait(120), seen[-3:]
    t0 = time.perf_counter()
    future.cancel()
    stopped = engine.close(timeout=10)
    elapsed = time.perf_counter() - t0
    assert stopped and not engine._thread.is_alive()
    assert elapsed < 0.5, f"the worker took {elapsed:.2f} s to stop (used to finish the whole video first)"
    frames = [m for m in seen if m.startswith("video frame")]
    assert len(frames) < 40, f"{len(frames)} frames were processed after the cancel"
    assert future.cancelled()


def test_close_stops_a_worker_busy_on_a_video_without_an_explicit_cancel(embedder, store):
    engine = Engine(embedder, store)
    started = threading.Event()
    engine.submit(VideoQuery(str(LONG_CLIP)), on_progress=lambda f, m: m.startswith("video frame 2") and started.set())
    assert started.wait(120)
    t0 = time.perf_counter()
    assert engine.close(timeout=10) and time.perf_counter() - t0 < 0.5


def test_text_queries_still_work_after_the_changes(embedder, store):
    result = Engine(embedder, store).run(TextQuery("a person walks"), k=3)
    assert result.ok and len(result.hits) == 3
