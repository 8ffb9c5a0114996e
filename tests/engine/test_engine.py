"""Engine with the trained model and the Bandai-Namco store: queries, worker thread, supersede, cancel, errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from lavimo_core.engine import Engine
from lavimo_core.errors import LavimoError
from lavimo_core.query import CombinedQuery, MotionFileQuery, MotionQuery, StoredMotionQuery, TextQuery, VideoQuery
from lavimo_core.store import ModelIdentity, Store, StoreModelMismatchError


@pytest.fixture
def engine(embedder, store):
    e = Engine(embedder, store)
    yield e
    e.close()


def test_text_query_finds_matching_motions(engine, store):
    result = engine.run(TextQuery("a person bows"), k=10)
    assert result.ok and len(result.hits) == 10 and not result.no_match
    assert any(h.labels.get("content") == "bow" for h in result.hits[:5])
    for h in result.hits:
        assert -1 <= h.score <= 1 and 0 <= h.probability <= 1
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    # calibrated: higher cosine never gives a lower probability
    probs = [h.probability for h in result.hits]
    assert probs == sorted(probs, reverse=True)


def test_mirror_copies_fold_under_the_clip(embedder, built_store, tmp_path):
    import shutil

    from lavimo_core.motion.mirror import mirror_joints
    from lavimo_core.motion.motion import Motion
    shutil.copytree(built_store, tmp_path / "lib")
    store = Store.open(tmp_path / "lib", embedder)
    originals = [store.motion(i) for i in store.ids()[::20]]
    copies = [Motion(m.name + "_mirrored", mirror_joints(m.joints), captions=m.captions, labels=m.labels)
              for m in originals]
    store.add(copies)  # an animator's library often holds both: they must not fill the results twice
    engine = Engine(embedder, store)
    for m in originals:
        for result in (engine.run(TextQuery(m.captions[0]), k=10), engine.run(MotionQuery(m), k=10)):
            heads = {h.motion_id: h for h in result.hits}
            assert not (m.name in heads and m.name + "_mirrored" in heads)
            for a, b in ((m.name, m.name + "_mirrored"), (m.name + "_mirrored", m.name)):
                if a in heads:
                    assert (b, "mirror") in [(f.motion_id, f.relation) for f in heads[a].folded]


def test_distinct_clips_are_rarely_folded(store):
    from lavimo_core.store.folding import DUPLICATE_THRESHOLD, MIRROR_THRESHOLD
    e = np.stack([store.embedding(i) for i in store.ids()])
    m = np.stack([store.embedding(i, mirror=True) for i in store.ids()])
    dup, mir = e @ e.T, e @ m.T
    np.fill_diagonal(dup, -1)
    np.fill_diagonal(mir, -1)
    folds = (dup.max(1) >= DUPLICATE_THRESHOLD) | (mir.max(1) >= MIRROR_THRESHOLD)
    assert folds.mean() < 0.1  # Bandai-Namco-1 has no duplicates: the thresholds keep distinct takes apart


def test_find_similar_from_store_and_from_file(engine, store):
    mid = store.ids()[0]
    result = engine.run(StoredMotionQuery(mid), k=5)
    assert result.ok and mid not in [h.motion_id for h in result.hits] and len(result.hits) == 5
    path = store.record(mid).source.path
    from_file = engine.run(MotionFileQuery(path), k=5)
    assert from_file.ok and mid not in [h.motion_id for h in from_file.hits]
    assert [h.motion_id for h in from_file.hits[:3]] == [h.motion_id for h in result.hits[:3]]


def test_combined_text_and_motion_query(engine, store):
    mid = store.ids()[10]
    text = engine.run(TextQuery("a person walks"), k=35, fold=False)
    both = engine.run(CombinedQuery([(TextQuery("a person walks"), 1.0), (StoredMotionQuery(mid), 1.0)]),
                      k=35, fold=False)
    assert both.ok and mid not in [h.motion_id for h in both.hits]
    t = {h.motion_id: h.score for h in text.hits}
    # Whole clips: the combined score is the mean of the parts'. (A long take scores by its best window for the
    # combined query, which need not be the text's best window.)
    other = [h for h in both.hits if h.motion_id in t and not h.is_moment]
    assert other and all(abs(h.score - (t[h.motion_id] + float(store.embedding(mid) @ store.embedding(h.motion_id))) / 2)
                         < 1e-4 for h in other)


def _assert_library_probability(result, cal, kind: str, wording: float | None = None) -> None:
    """A one-kind result's P(library has a match): from its best hit's cosine (for text at most P(known wording)),
    and < 1/2 exactly when no_match."""
    p = result.library_probability
    assert 0 <= p <= 1 and result.to_dict()["library_probability"] == p
    expected = float(cal.library_probability(kind, result.hits[0].score))
    assert p == pytest.approx(expected if wording is None else min(expected, wording), abs=1e-6)
    assert result.no_match == (p < 0.5), (kind, p, result.hits[0].score, cal.no_match_below[kind])


def test_result_carries_the_library_probability(engine, embedder, store):
    from lavimo_core.store import Filters
    cal = embedder.calibration
    seen = set()
    for text in ("a person plays the piano", "someone kicks", "a person bows", "a person walks"):
        result = engine.run(TextQuery(text), k=3)
        _assert_library_probability(result, cal, "text", cal.wording_probability(embedder.embed_text([text])[0]))
        seen.add(result.no_match)
    for mid in store.ids()[::25]:
        result = engine.run(StoredMotionQuery(mid), k=3)
        _assert_library_probability(result, cal, "motion")
        seen.add(result.no_match)
        # The same clip against a library holding only another action: usually flagged.
        other = "walk" if store.record(mid).labels["content"] != "walk" else "bow"
        result = engine.run(StoredMotionQuery(mid), k=3, filters=Filters(labels={"content": other}))
        _assert_library_probability(result, cal, "motion")
        seen.add(result.no_match)
    assert seen == {True, False}  # both verdicts were checked
    empty = engine.run(TextQuery("a person walks"), filters=Filters(labels={"content": "no-such-action"}))
    assert empty.no_match and empty.library_probability is None and empty.to_dict()["library_probability"] is None


def test_combined_query_library_probability_is_the_weighted_mean(engine, embedder, store):
    mid = store.ids()[10]
    result = engine.run(CombinedQuery([(TextQuery("a person walks"), 3.0), (StoredMotionQuery(mid), 1.0)]), k=3)
    from lavimo_core.store.search import QueryPart, hit_embedding
    parts = [QueryPart(embedder.embed_text(["a person walks"])[0], "text", 3.0),
             QueryPart(store.embedding(mid), "motion", 1.0)]
    # the best hit's embedding: the motion's, or a long take's best window for this query
    best = hit_embedding(store.rows(), store.rows().row_of[result.hits[0].motion_id], parts)
    cal = embedder.calibration
    p_text = cal.library_probability("text", float(embedder.embed_text(["a person walks"])[0] @ best))
    p_motion = cal.library_probability("motion", float(store.embedding(mid) @ best))
    assert result.library_probability == pytest.approx(0.75 * p_text + 0.25 * p_motion, abs=1e-5)


def test_a_query_worded_unlike_any_training_caption_is_no_good_match_with_a_notice(trained_model, built_store,
                                                                                  tmp_path):
    """The wording check (model/known_wording.py) on the real model: a training caption is known wording, its hits
    keep their verdict; with the wording threshold raised so that only training captions count as known, another
    prompt is "no good match" whatever its best hit, says why, and still gets its ranked hits."""
    import json
    import shutil

    from lavimo_core.model.embedder import Embedder
    emb = Embedder.from_checkpoint(trained_model)
    assert emb.calibration.wording_bank is not None and emb.calibration.wording_below is not None
    strict = tmp_path / "strict"
    shutil.copytree(trained_model, strict)
    meta = json.loads((strict / "checkpoint.json").read_text())
    meta["calibration"]["wording"]["platt"] = [1000.0, -999.0]  # known only from cosine 0.999 on
    (strict / "checkpoint.json").write_text(json.dumps(meta))
    emb = Embedder.from_checkpoint(strict)
    library = Store.open(built_store, emb)
    captions = sorted({c for i in library.ids() for c in library.record(i).captions})
    bank_caption = next(c for c, e in zip(captions, emb.embed_text(captions)) if emb.calibration.knows_wording(e))
    with Engine(emb, Store.open(built_store, emb)) as engine:
        known = engine.run(TextQuery(bank_caption), k=3)
        assert known.ok and not any("worded like this" in n for n in known.notices)
        assert known.no_match == (known.hits[0].score < emb.calibration.no_match_below["text"])
        unknown = engine.run(TextQuery("a person plays the piano"), k=3)
        assert unknown.ok and unknown.no_match and len(unknown.hits) == 3
        assert not any(h.is_match for h in unknown.hits)
        assert any("worded like this" in n for n in unknown.notices)
        assert unknown.library_probability < 0.5


def test_old_checkpoint_has_no_library_probability_and_flags_as_before(trained_model, built_store, tmp_path):
    import json
    import shutil

    from lavimo_core.model.embedder import Embedder
    old = tmp_path / "old"
    shutil.copytree(trained_model, old)
    meta = json.loads((old / "checkpoint.json").read_text())
    del meta["calibration"]["library_platt"]  # as written before the library calibration existed
    (old / "checkpoint.json").write_text(json.dumps(meta))
    emb = Embedder.from_checkpoint(old)
    store = Store.open(built_store, emb)
    threshold = emb.calibration.no_match_below["text"]
    with Engine(emb, store) as engine:
        for text in ("a person bows", "a person plays the piano"):
            result = engine.run(TextQuery(text), k=3)
            assert result.ok and result.library_probability is None
            assert result.to_dict()["library_probability"] is None
            assert result.no_match == (result.hits[0].score < threshold)


def test_async_submit_reports_progress_and_one_result(embedder, store):
    progress, done = [], []
    with Engine(embedder, store) as engine:
        future = engine.submit(TextQuery("someone dances"), k=3, on_progress=lambda f, m: progress.append(f))
        future.add_done_callback(done.append)
        result = future.result(timeout=60)
    assert result.ok and len(result.hits) == 3
    assert done == [future]
    assert progress == sorted(progress) and progress[-1] == 1.0


def _held_until(release: threading.Event, entered: threading.Event):
    """An on_progress that holds its request inside the worker at its start until `release` is set."""
    def hold(fraction, message):
        if fraction == 0.0:
            entered.set()
            release.wait(30)
    return hold


def test_new_query_supersedes_a_running_one(embedder, store):
    entered, release = threading.Event(), threading.Event()
    with Engine(embedder, store) as engine:
        first = engine.submit(TextQuery("a person walks"), on_progress=_held_until(release, entered))
        assert entered.wait(30)
        queued = engine.submit(TextQuery("a person runs"))
        last = engine.submit(TextQuery("a person jumps"))
        release.set()
        assert last.result(60).ok
        assert first.cancelled() and queued.cancelled()
        assert not engine.busy


def test_without_supersede_every_request_completes(embedder, store):
    with Engine(embedder, store, supersede=False) as engine:
        futures = [engine.submit(TextQuery(t)) for t in ("a person walks", "a person runs", "a person bows")]
        assert all(f.result(60).ok for f in futures)


def test_cancel_a_running_and_a_queued_query(embedder, store):
    entered, release = threading.Event(), threading.Event()
    progress = []
    with Engine(embedder, store, supersede=False) as engine:
        running = engine.submit(TextQuery("a person walks"), on_progress=_held_until(release, entered))
        assert entered.wait(30)
        queued = engine.submit(TextQuery("a person runs"), on_progress=lambda f, m: progress.append(f))
        assert queued.cancel() and running.cancel()  # a running query can be cancelled too
        release.set()
        assert engine.submit(TextQuery("a person bows")).result(60).ok  # still serving
        assert running.cancelled() and queued.cancelled() and progress == []  # the queued one never ran


def test_many_threads_submitting(embedder, store):
    with Engine(embedder, store, supersede=False) as engine:
        futures, lock = [], threading.Lock()

        def client(n):
            for j in range(4):
                future = engine.submit(StoredMotionQuery(store.ids()[(n * 4 + j) % len(store)]), k=3)
                with lock:
                    futures.append(future)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(5)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(futures) == 20 and all(f.result(60).ok for f in futures)


# ---------------------------------------------------------------- errors come back as results

@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt(engine, prompt):
    result = engine.run(TextQuery(prompt))
    assert not result.ok and "prompt is empty" in result.error and not result.hits


def test_very_long_prompt_is_truncated_with_a_notice(engine):
    words = "a person walks forward slowly and then turns around and waves with the left hand " * 8
    result = engine.run(TextQuery(words))
    assert result.ok and result.hits and any("tokens long" in n for n in result.notices)
    huge = engine.run(TextQuery("a person jumps " * 500))
    assert huge.ok and any("first 1000 characters" in n for n in huge.notices)


def test_non_english_prompt_works_with_a_note(engine):
    result = engine.run(TextQuery("人が前にジャンプする"))
    assert result.ok and result.hits and any("English" in n for n in result.notices)
    assert engine.run(TextQuery("Человек идёт")).ok


def test_unreadable_and_missing_videos(engine, tmp_path):
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video")
    result = engine.run(VideoQuery(str(fake)))
    assert not result.ok and "clip.mp4" in result.error
    missing = engine.run(VideoQuery(str(tmp_path / "nope.mp4")))
    assert not missing.ok and "nope.mp4" in missing.error


def test_bad_motion_queries(engine, tmp_path):
    assert "no motion 'nope'" in engine.run(StoredMotionQuery("nope")).error
    assert "not found" in engine.run(MotionFileQuery(str(tmp_path / "x.bvh"))).error
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n")
    r = engine.run(MotionFileQuery(str(bad)))
    assert not r.ok and "broken.bvh" in r.error
    assert "weights must be positive" in engine.run(CombinedQuery([(TextQuery("walk"), 0)])).error
    assert "unknown query type" in engine.run("a person walks").error


def test_a_query_that_raises_comes_back_as_an_error_and_the_worker_lives(embedder, store, monkeypatch):
    with Engine(embedder, store) as engine:
        real = store.search_combined

        def broken(*a, **k):
            raise RuntimeError("index exploded")

        monkeypatch.setattr(store, "search_combined", broken)
        r = engine.submit(TextQuery("a person walks")).result(60)
        assert not r.ok and "RuntimeError: index exploded" in r.error
        monkeypatch.setattr(store, "search_combined", real)
        assert engine.submit(TextQuery("a person walks")).result(60).ok


def test_failing_callbacks_do_not_kill_the_worker(embedder, store):
    def boom(*a):
        raise ValueError("callback bug")

    with Engine(embedder, store) as engine:
        for text in ("a person walks", "a person runs"):
            future = engine.submit(TextQuery(text), on_progress=boom)
            future.add_done_callback(boom)  # concurrent.futures logs it; the worker goes on
            assert future.result(60).ok


def test_store_built_with_another_model_is_refused(embedder, tmp_path):
    other = Store.create(tmp_path / "other", ModelIdentity("other-model", "0" * 64, embedder.dim))
    with pytest.raises(StoreModelMismatchError, match="other-model.*rebuild the store"):
        Engine(embedder, other)


def test_closed_engine_refuses_new_work(embedder, store):
    engine = Engine(embedder, store)
    engine.close()
    with pytest.raises(LavimoError, match="closed"):
        engine.submit(TextQuery("a person walks"))


def test_no_model_still_answers_find_similar_and_explains_text(store):
    engine = Engine(None, store)
    assert engine.run(StoredMotionQuery(store.ids()[3])).ok
    assert "no model is loaded" in engine.run(TextQuery("a person walks")).error


@pytest.mark.slow
def test_video_query_end_to_end(engine, store, tmp_path):
    """A rendered video of a stored clip -> decode -> MediaPipe -> video encoder -> ranked motions."""
    from lavimo_core.synthesis.camera import Camera
    from lavimo_core.synthesis.render import write_video

    mid = next(i for i in store.ids() if store.record(i).labels.get("content") == "bow")
    clip = write_video(tmp_path / "bow.mp4", store.motion(mid), Camera(azimuth=30.0, size=(320, 240)), fps=20.0)
    progress = []
    with Engine(engine.embedder, store) as worker:
        result = worker.submit(VideoQuery(str(clip)), k=5, on_progress=lambda f, m: progress.append(m)).result(300)
    assert result.ok and len(result.hits) == 5, result.error
    assert all(0 <= h.probability <= 1 for h in result.hits)
    _assert_library_probability(result, engine.embedder.calibration, "video")
    assert "encoding video query" in progress
    said = [n for n in result.notices if n.startswith("video 320x240: a person in ")]   # what was found, in words
    assert len(said) == 1 and "% of the frame's height" in said[0] and "crop" not in said[0]
    both = engine.run(CombinedQuery([(TextQuery("a person bows"), 0.5), (VideoQuery(str(clip)), 0.5)]), k=5)
    assert both.ok and both.hits


def test_filters_that_exclude_everything_give_a_no_match_result(engine):
    from lavimo_core.store import Filters
    result = engine.run(TextQuery("a person walks"), filters=Filters(labels={"content": "no-such-action"}))
    assert result.ok and not result.hits and result.no_match
    assert any("passes the filters" in n for n in result.notices)
    only_short = engine.run(TextQuery("a person walks"), k=50, filters=Filters(max_duration=3.0))
    assert only_short.ok and only_short.hits and all(h.duration <= 3.0 for h in only_short.hits)
