"""Building a store with the trained model: progress, interruption and resume, overwrite, bad clips."""

from __future__ import annotations

import numpy as np
import pytest

from lavimo_core.motion.motion import Motion
from lavimo_core.store import BuildCancelled, Store, StoreError
from lavimo_core.store.build import build_store


def test_build_reports_progress_and_records_everything(tmp_path, embedder, trained_model, bandai_motions):
    seen = []
    report = build_store(bandai_motions[:6], embedder, tmp_path / "s", model_path=trained_model, chunk=4,
                         batch_size=2, progress=lambda f, m: seen.append((f, m)))
    assert report.added == 6 and not report.resumed and report.motions_per_second > 0
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 3
    store = Store.open(tmp_path / "s", embedder)
    assert store.model.model_id == embedder.model_id and store.model.path == str(trained_model.resolve())
    # embeddings are the model's, and the mirror embedding is the mirrored clip's
    from lavimo_core.store.encode import mirrored
    m = bandai_motions[2]
    np.testing.assert_allclose(store.embedding(m.name), embedder.embed_motion([m])[0], atol=1e-5)
    np.testing.assert_allclose(store.embedding(m.name, mirror=True), embedder.embed_motion([mirrored(m)])[0], atol=1e-5)


def test_interrupted_build_leaves_no_store_and_resumes(tmp_path, embedder, bandai_motions):
    out = tmp_path / "lib"
    chunks = []

    def interrupt_after_first_chunk(fraction, message):
        chunks.append(fraction)
        if fraction > 0.5:
            raise KeyboardInterrupt  # the user hits Ctrl-C mid-build

    with pytest.raises(KeyboardInterrupt):
        build_store(bandai_motions[:8], embedder, out, chunk=4, batch_size=4, progress=interrupt_after_first_chunk)
    assert not out.exists()  # no half-built store where the user asked for one
    partial = Store.open(out.with_name("lib.partial"))
    assert len(partial) == 4  # the first chunk was committed, the second not

    calls = iter(range(100))
    with pytest.raises(BuildCancelled):
        build_store(bandai_motions[:8], embedder, out, chunk=4, batch_size=4, cancel=lambda: next(calls) >= 1)
    assert not out.exists()

    report = build_store(bandai_motions[:8], embedder, out, chunk=4, batch_size=4)
    assert report.resumed and report.already_present == 4 and report.added == 4
    assert Store.open(out).ids() == [m.name for m in bandai_motions[:8]]
    assert not out.with_name("lib.partial").exists()


def test_overwrite_and_append(tmp_path, embedder, bandai_motions):
    out = tmp_path / "lib"
    build_store(bandai_motions[:3], embedder, out)
    with pytest.raises(StoreError, match="--append.*--overwrite"):
        build_store(bandai_motions[:3], embedder, out)
    r = build_store(bandai_motions[:5], embedder, out, append=True)
    assert r.added == 2 and r.already_present == 3 and len(Store.open(out)) == 5
    build_store(bandai_motions[5:7], embedder, out, overwrite=True)
    assert Store.open(out).ids() == [m.name for m in bandai_motions[5:7]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib"]


def test_bad_clip_is_skipped_not_fatal(tmp_path, embedder, bandai_motions):
    good = bandai_motions[:2]
    bad = Motion("broken-take", np.full((10, 22, 3), np.nan, np.float32))
    report = build_store([good[0], bad, good[1]], embedder, tmp_path / "s")
    assert report.added == 2 and report.skipped[0][0] == "broken-take" and "NaN" in report.skipped[0][1]
    assert Store.open(tmp_path / "s").ids() == [m.name for m in good]


def test_output_path_that_is_not_a_store(tmp_path, embedder, bandai_motions):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a LAVIMO store"):
        build_store(bandai_motions[:1], embedder, tmp_path / "docs")
    assert (tmp_path / "docs" / "notes.txt").read_text() == "mine"
