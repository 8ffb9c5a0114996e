"""Moment search in a real store: spliced long takes beside short Bandai clips, with the tiny trained model."""

import json
import shutil

import numpy as np
import pytest

from lavimo_core.eval.spliced import load_clips, spliced_set
from lavimo_core.store import Store
from lavimo_core.store import format as fmt
from lavimo_core.store.moments import temporal_iou


@pytest.fixture(scope="module")
def takes():
    return spliced_set(load_clips(per_content=4), takes=4, seed=5)


@pytest.fixture(scope="module")
def short_clips():
    from lavimo_core.data import load_dataset
    ds = load_dataset("bandai-namco-1")
    return [m for m in ds.motions if m.duration < 6.0][:40]


@pytest.fixture(scope="module")
def moment_store(tmp_path_factory, embedder, takes, short_clips):
    path = tmp_path_factory.mktemp("moments") / "store"
    store = Store.create(path, embedder)
    store.add([t.motion for t in takes] + short_clips)
    return store


def test_long_takes_are_stored_as_windows_and_short_clips_whole(moment_store, takes, short_clips):
    info = moment_store.info()
    assert info["format_version"] == fmt.FORMAT_VERSION == 2 and info["window_lengths"] == [40, 60, 80]
    rows = moment_store.rows()
    owners = set(rows.windows.owner.tolist())
    assert owners == {rows.row_of[t.motion.name] for t in takes}  # every take > 2 x 80 frames; no short clip
    assert info["windows"] == len(rows.windows.owner) and info["long_motions_searched_whole"] == 0


def test_a_query_returns_the_moment_ranked_with_whole_clips(moment_store, embedder, takes):
    hits_per_query, good = [], 0
    for take in takes:
        for seg in take.segments:
            q = embedder.embed_text([seg.query])[0]
            hits = moment_store.search(q, "text", k=10)
            hits_per_query.append(hits)
            moments = [h for h in hits if h.motion_id.startswith("take_")]
            for h in hits:
                assert 0 <= h.start < h.end <= h.duration + 1e-6
                assert h.is_moment == h.motion_id.startswith("take_")  # short clips come back whole
            best = next((h for h in moments if h.motion_id == take.motion.name), None)
            if best is not None and temporal_iou((best.start, best.end), (seg.start, seg.end)) >= 0.5:
                good += 1
            d = hits[0].to_dict()
            assert {"start", "end"} <= set(d) and json.dumps(d)
    # Takes and short clips compete in one ranking: both appear in the results.
    assert any(not h.is_moment for hits in hits_per_query for h in hits)
    assert any(h.is_moment for hits in hits_per_query for h in hits)
    n = sum(len(t.segments) for t in takes)
    assert good / n >= 0.6  # the queried take's moment overlaps its segment (tiny model; 0.8 on 20 takes)


def test_remove_and_compact_keep_each_takes_windows(moment_store, embedder, takes, tmp_path):
    path = tmp_path / "copy"
    shutil.copytree(moment_store.path, path)
    store = Store.open(path, embedder)
    q = embedder.embed_text([takes[2].segments[0].query])[0]
    before = {h.motion_id: (h.start, h.end, h.score) for h in store.search(q, "text", k=50, fold=False)}
    store.remove([takes[0].motion.name, store.ids()[-1]])
    store.compact()
    reopened = Store.open(path, embedder)
    after = {h.motion_id: (h.start, h.end, h.score) for h in reopened.search(q, "text", k=50, fold=False)}
    for mid, (s, e, score) in after.items():
        if mid in before:
            assert (s, e) == before[mid][:2] and score == pytest.approx(before[mid][2], abs=1e-5)
    assert takes[0].motion.name not in after and takes[1].motion.name in reopened


def test_a_store_from_before_moments_opens_and_searches_whole_takes_as_before(moment_store, embedder, takes, tmp_path):
    """A format 1 store (no "windows", no window files) as the previous version wrote it."""
    path = tmp_path / "v1"
    old = Store.create(path, fmt.ModelIdentity.of(embedder))  # a bare identity: no checkpoint, so no windows
    old.add([t.motion for t in takes], embeddings=embedder.embed_motion([t.motion for t in takes]),
            mirror_embeddings=embedder.embed_motion([t.motion for t in takes]))
    manifest = json.loads((path / fmt.MANIFEST).read_text())
    manifest["format_version"] = 1
    del manifest["windows"]
    (path / fmt.MANIFEST).write_text(json.dumps(manifest))
    store = Store.open(path, embedder)
    info = store.info()
    assert info["format_version"] == 1 and info["windows"] == 0
    assert info["long_motions_searched_whole"] == len(takes)  # what `lavimo info` tells the user to rebuild for
    hits = store.search(embedder.embed_text(["a person bows"])[0], "text", k=3)
    assert all((h.start, h.end) == (0.0, h.duration) and not h.is_moment for h in hits)
    whole = embedder.embed_motion([takes[0].motion])[0]
    assert np.allclose(store.embedding(takes[0].motion.name), whole, atol=1e-6)
    store.add([takes[0].motion])  # adding to it keeps it format 1: no windows appear
    assert json.loads((path / fmt.MANIFEST).read_text())["format_version"] == 1
    assert Store.open(path, embedder).info()["windows"] == 0


def test_a_take_shorter_than_one_window_is_stored_whole_and_found_whole(embedder, short_clips, tmp_path):
    tiny = short_clips[0]
    assert tiny.num_frames < 2 * 80
    store = Store.create(tmp_path / "s", embedder)
    store.add([tiny])
    hit = store.search(embedder.embed_text(["a person walks"])[0], "text", k=1)[0]
    assert (hit.start, hit.end) == (0.0, tiny.duration) and store.info()["windows"] == 0


def test_cli_prints_the_range_and_json_carries_it(capsys, moment_store, trained_model, takes):
    from lavimo_core.cli import main

    walk = next(s for t in takes for s in t.segments if s.content == "walk")
    assert main(["search", walk.query, "--store", str(moment_store.path), "--model", str(trained_model), "-k", "5"]) == 0
    out = capsys.readouterr().out
    import re
    assert re.search(r"^\s*\d+\s+take_\d{3} \d+\.\d–\d+\.\d s\s", out, re.M), out
    assert main(["search", walk.query, "--store", str(moment_store.path), "--model", str(trained_model), "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    take = next(h for h in hits if h["motion_id"].startswith("take_"))
    assert 0 <= take["start"] < take["end"] <= take["duration"]
    assert main(["info", str(moment_store.path)]) == 0
    assert "long motions searched inside: windows of 40, 60, 80 frames" in capsys.readouterr().out


def test_cli_says_a_store_from_before_moments_matches_long_takes_whole(capsys, embedder, trained_model, takes,
                                                                       tmp_path):
    from lavimo_core.cli import main

    path = tmp_path / "v1"
    store = Store.create(path, fmt.ModelIdentity.of(embedder, trained_model))  # identity: no windows
    store.add([takes[0].motion], embeddings=embedder.embed_motion([takes[0].motion]),
              mirror_embeddings=embedder.embed_motion([takes[0].motion]))
    manifest = json.loads((path / fmt.MANIFEST).read_text())
    manifest["format_version"] = 1
    del manifest["windows"]
    (path / fmt.MANIFEST).write_text(json.dumps(manifest))
    assert main(["search", "a person bows", "--store", str(path), "--model", str(trained_model)]) == 0
    out, err = capsys.readouterr()
    assert "is format 1 (from before moment search): its 1 long motion(s) are matched as whole takes" in err
    assert "--overwrite" in err and "–" not in out.splitlines()[1]


def test_an_append_that_skips_present_takes_keeps_each_takes_windows(embedder, takes, short_clips, tmp_path):
    """skip_present (idempotent appends) drops motions already stored; their windows must go with them.

    Before, the windows of the dropped takes stayed in the new segment with owners pointing at the wrong rows.
    """
    store = Store.create(tmp_path / "store", embedder)
    store.add([takes[0].motion, short_clips[0]])
    store.add([takes[0].motion, takes[1].motion, short_clips[0], short_clips[1]], skip_present=True)
    reopened = Store.open(tmp_path / "store", embedder)
    rows = reopened.rows()
    assert sorted(reopened.ids()) == sorted([takes[0].motion.name, takes[1].motion.name,
                                             short_clips[0].name, short_clips[1].name])
    owners = rows.windows.owner
    assert set(owners.tolist()) == {rows.row_of[takes[0].motion.name], rows.row_of[takes[1].motion.name]}
    for t in takes[:2]:
        spans = rows.windows.span[owners == rows.row_of[t.motion.name]]
        assert spans.max() <= t.motion.num_frames      # every window lies inside its own take
    q = embedder.embed_text([takes[1].segments[0].query])[0]
    for h in reopened.search(q, "text", k=10):
        assert 0 <= h.start < h.end <= h.duration + 1e-6
