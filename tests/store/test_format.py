"""On-disk format: round trips, documented layout, add/remove without re-encoding, atomicity, bad files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from lavimo_core.store import (ModelIdentity, Store, StoreBusyError, StoreCorruptError, StoreError,
                               StoreModelMismatchError, StoreNotFoundError, StoreVersionError)
from lavimo_core.store import format as fmt


def test_format_docstring_names_every_file_and_field(make_store):
    store = make_store()
    doc = fmt.__doc__
    for name in (fmt.MANIFEST, fmt.LOCK, fmt.SEGMENTS, *fmt.SEGMENT_FILES):
        assert name in doc
    for key in json.loads((store.path / fmt.MANIFEST).read_text()):
        assert f'"{key}"' in doc, key
    seg = store.path / fmt.SEGMENTS / "000001"
    for key in json.loads((seg / fmt.RECORDS_FILE).read_text())["motions"][0]:
        assert f'"{key}"' in doc, key


def test_round_trip(make_store, bandai_motions, stats):
    store = make_store()
    again = Store.open(store.path)
    assert len(again) == len(bandai_motions) and again.ids() == [m.name for m in bandai_motions]
    assert again.model == stats.identity and again.dtype == "float32"
    emb, mir = stats.embed(bandai_motions)
    m0 = bandai_motions[3]
    np.testing.assert_allclose(again.embedding(m0.name), emb[3], atol=1e-6)
    np.testing.assert_allclose(again.embedding(m0.name, mirror=True), mir[3], atol=1e-6)
    back = again.motion(m0.name)
    np.testing.assert_array_equal(back.joints, m0.joints)
    np.testing.assert_array_equal(back.features, m0.features)
    assert back.captions == m0.captions and back.labels == m0.labels and back.source == m0.source
    rec = again.record(m0.name)
    assert rec.duration == pytest.approx(m0.duration) and rec.source.fps == 30.0
    info = again.info()
    assert info["motions"] == len(bandai_motions) and info["licenses"] == {
        "CC BY-NC 4.0 / Bandai Namco Research Inc.": len(bandai_motions)}


def test_float16_store(make_store, bandai_motions, stats):
    store = make_store(dtype="float16")
    again = Store.open(store.path)
    assert again.dtype == "float16" and again.rows().emb.dtype == np.float16
    emb, _ = stats.embed(bandai_motions)
    np.testing.assert_allclose(again.embedding(bandai_motions[0].name), emb[0], atol=1e-3)


def test_duplicate_names_get_unique_ids(make_store, bandai_motions, stats):
    store = make_store(bandai_motions[:3])
    emb, mir = stats.embed(bandai_motions[:1])
    ids = store.add(bandai_motions[:1], embeddings=emb, mirror_embeddings=mir)
    assert ids == [bandai_motions[0].name + "~2"]
    assert Store.open(store.path).ids()[-1] == ids[0]


def _segment_files(store):
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in (store.path / fmt.SEGMENTS).rglob("*") if p.is_file()}


def test_add_and_remove_leave_other_segments_untouched(make_store, bandai_motions, stats):
    first, second = bandai_motions[:10], bandai_motions[10:20]
    store = make_store(first)
    before = _segment_files(store)
    emb, mir = stats.embed(second)
    store.add(second, embeddings=emb, mirror_embeddings=mir)
    after_add = _segment_files(store)
    assert all(after_add[p] == v for p, v in before.items())  # existing segment not rewritten
    store.remove([first[2].name, second[0].name])
    assert _segment_files(store) == after_add  # removal only rewrites the manifest
    again = Store.open(store.path)
    assert len(again) == 18 and first[2].name not in again and second[0].name not in again
    np.testing.assert_array_equal(again.motion(second[1].name).joints, second[1].joints)
    # a segment whose motions are all removed is deleted
    store.remove([m.name for m in second[1:]])
    assert not (store.path / fmt.SEGMENTS / "000002").exists()
    assert Store.open(store.path).ids() == [m.name for m in first if m is not first[2]]


def test_remove_unknown_id_changes_nothing(make_store, bandai_motions):
    store = make_store(bandai_motions[:5])
    manifest = (store.path / fmt.MANIFEST).read_bytes()
    with pytest.raises(StoreError, match="no-such-motion.*nothing removed"):
        store.remove([bandai_motions[0].name, "no-such-motion"])
    assert (store.path / fmt.MANIFEST).read_bytes() == manifest and len(store) == 5


def test_compact_keeps_motions_and_frees_space(make_store, bandai_motions):
    store = make_store(bandai_motions[:12])
    store.remove([m.name for m in bandai_motions[:12:2]])
    freed = store.compact()
    assert freed > 0 and store.info()["removed_pending_compaction"] == 0
    again = Store.open(store.path)
    assert again.ids() == [m.name for m in bandai_motions[1:12:2]]
    for m in bandai_motions[1:12:2]:
        np.testing.assert_array_equal(again.motion(m.name).features, m.features)
    assert [p.name for p in (store.path / fmt.SEGMENTS).iterdir()] == ["000002"]


def test_failure_during_add_leaves_store_unchanged(make_store, bandai_motions, stats, monkeypatch):
    store = make_store(bandai_motions[:5])
    manifest = (store.path / fmt.MANIFEST).read_bytes()
    emb, mir = stats.embed(bandai_motions[5:8])

    real_write = fmt.write_manifest

    def crash(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(fmt, "write_manifest", crash)  # segment written, commit fails
    with pytest.raises(OSError, match="disk full"):
        store.add(bandai_motions[5:8], embeddings=emb, mirror_embeddings=mir)
    monkeypatch.setattr(fmt, "write_manifest", real_write)
    assert (store.path / fmt.MANIFEST).read_bytes() == manifest and len(store) == 5

    real_save = fmt.os.fsync
    calls = []

    def crash_on_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError("I/O error (simulated)")
        return real_save(fd)

    monkeypatch.setattr(fmt.os, "fsync", crash_on_second_file)  # dies while writing the segment
    with pytest.raises(OSError, match="I/O error"):
        store.add(bandai_motions[5:8], embeddings=emb, mirror_embeddings=mir)
    monkeypatch.setattr(fmt.os, "fsync", real_save)
    assert Store.open(store.path).ids() == [m.name for m in bandai_motions[:5]]
    store.add(bandai_motions[5:8], embeddings=emb, mirror_embeddings=mir)  # and the next add works
    assert sorted(p.name for p in (store.path / fmt.SEGMENTS).iterdir()) == ["000001", "000002"]


_KILL_SCRIPT = textwrap.dedent("""
    import sys, numpy as np
    from lavimo_core.motion.load import load_motion
    from lavimo_core.store import Store, ModelIdentity
    files = sys.argv[2:]
    motions = [load_motion(f) for f in files]
    store = Store.open(sys.argv[1])
    rng = np.random.default_rng(0)
    while True:  # keep adding until killed
        e = rng.standard_normal((len(motions), 8)).astype(np.float32)
        store.add(motions, embeddings=e, mirror_embeddings=e)
        print(len(store), flush=True)
""")


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.9])
def test_killed_writer_never_leaves_a_broken_store(tmp_path, bandai_motions, delay):
    # The killed process writes real motions with arbitrary vectors: only the store's mechanics matter here.
    ident = ModelIdentity("kill-test", "0" * 64, 8)
    Store.create(tmp_path / "s", ident)
    files = [m.source.path for m in bandai_motions[:6]]
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(tmp_path / "s"), *files],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "6"  # at least one commit happened
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = Store.open(tmp_path / "s")
    assert len(store) % 6 == 0 and len(store) >= 6
    for mid in store.ids()[::5]:
        assert store.motion(mid).num_frames > 1
    e = np.eye(8, dtype=np.float32)[:1]
    store.add(bandai_motions[:1], embeddings=e, mirror_embeddings=e)  # cleans the debris, works
    listed = {s["name"] for s in json.loads((store.path / fmt.MANIFEST).read_text())["segments"]}
    assert {p.name for p in (store.path / fmt.SEGMENTS).iterdir()} == listed


def test_concurrent_writer_is_refused(make_store, bandai_motions, stats):
    store = make_store(bandai_motions[:3])
    emb, mir = stats.embed(bandai_motions[3:4])
    code = f"from lavimo_core.store import format as f; import pathlib, time\nwith f.write_lock(pathlib.Path({str(store.path)!r})):\n print('locked', flush=True); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreBusyError, match="another process"):
            store.add(bandai_motions[3:4], embeddings=emb, mirror_embeddings=mir)
    finally:
        holder.kill()
        holder.wait()
    assert len(Store.open(store.path)) == 3


def test_other_process_changes_are_picked_up_before_writing(make_store, bandai_motions, stats):
    a = make_store(bandai_motions[:3])
    b = Store.open(a.path)
    emb, mir = stats.embed(bandai_motions[3:5])
    b.add(bandai_motions[3:5], embeddings=emb, mirror_embeddings=mir)
    a.remove([bandai_motions[0].name])  # a had not seen b's add; must not lose it
    assert Store.open(a.path).ids() == [m.name for m in bandai_motions[1:5]]


# ---------------------------------------------------------------- bad stores and bad input

def test_missing_store(tmp_path):
    with pytest.raises(StoreNotFoundError, match="does not exist.*lavimo index"):
        Store.open(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreNotFoundError, match="not a LAVIMO store.*store.json is missing"):
        Store.open(tmp_path / "empty")


def test_corrupt_manifest(make_store, bandai_motions):
    store = make_store(bandai_motions[:3])
    path = store.path / fmt.MANIFEST
    path.write_text("{ not json")
    with pytest.raises(StoreCorruptError, match="store.json is unreadable"):
        Store.open(store.path)
    path.write_text(json.dumps({"format": "lavimo-store", "format_version": 1}))
    with pytest.raises(StoreCorruptError, match="damaged.*model"):
        Store.open(store.path)
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(StoreCorruptError, match="not a LAVIMO store manifest"):
        Store.open(store.path)


def test_newer_format_version_is_refused(make_store, bandai_motions):
    store = make_store(bandai_motions[:3])
    m = json.loads((store.path / fmt.MANIFEST).read_text())
    m["format_version"] = fmt.FORMAT_VERSION + 1
    (store.path / fmt.MANIFEST).write_text(json.dumps(m))
    with pytest.raises(StoreVersionError, match="update LAVIMO"):
        Store.open(store.path)


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage-same-size"])
def test_corrupt_segment_files(make_store, bandai_motions, damage):
    store = make_store(bandai_motions[:3])
    f = store.path / fmt.SEGMENTS / "000001" / fmt.EMBEDDINGS_FILE
    data = f.read_bytes()
    if damage == "truncate":
        f.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        f.unlink()
    else:
        f.write_bytes(b"\xff" * len(data))
    with pytest.raises(StoreCorruptError, match=r"000001.*(Rebuild|rebuild)"):
        Store.open(store.path)


def test_a_malformed_record_is_reported_as_damage(make_store, bandai_motions):
    """A record missing a field (edited by hand, or written by a bug) is a clear StoreCorruptError, not a KeyError."""
    store = make_store(bandai_motions[:3])
    f = store.path / fmt.SEGMENTS / "000001" / fmt.RECORDS_FILE
    data = json.loads(f.read_text())
    del data["motions"][1]["duration"]
    f.write_text(json.dumps(data))
    manifest = json.loads((store.path / fmt.MANIFEST).read_text())
    manifest["segments"][0]["bytes"][fmt.RECORDS_FILE] = f.stat().st_size  # sizes agree: only the record is wrong
    (store.path / fmt.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(StoreCorruptError, match=r"motions.json is malformed.*duration.*lavimo index"):
        Store.open(store.path)


def test_corrupt_motion_payload_is_reported_on_read(make_store, bandai_motions):
    store = make_store(bandai_motions[:3])
    f = store.path / fmt.SEGMENTS / "000001" / fmt.MOTIONS_FILE
    f.write_bytes(b"\x00" * f.stat().st_size)  # same size: only the read notices
    with pytest.raises(StoreCorruptError, match=f"{bandai_motions[1].name}.*motions.safetensors"):
        store.motion(bandai_motions[1].name)


def test_model_mismatch_is_refused(make_store, bandai_motions, stats):
    store = make_store(bandai_motions[:3])
    other = ModelIdentity("other-model", "f" * 64, stats.identity.dim)
    with pytest.raises(StoreModelMismatchError, match="feature-stats.*other-model.*rebuild the store"):
        Store.open(store.path, other)
    with pytest.raises(StoreModelMismatchError):
        store.attach(other)
    Store.open(store.path, stats.identity)  # the right model is accepted


def test_create_refuses_existing_store(make_store, bandai_motions, stats):
    store = make_store(bandai_motions[:1])
    with pytest.raises(StoreError, match="already exists"):
        Store.create(store.path, stats.identity)
    with pytest.raises(StoreError, match="unknown store dtype"):
        Store.create(store.path.parent / "x", stats.identity, dtype="int8")
    assert not (store.path.parent / "x").exists()


def test_bad_motions_are_refused_with_their_name(make_store, bandai_motions, stats):
    from lavimo_core.motion.motion import Motion

    store = make_store(bandai_motions[:2])
    good = bandai_motions[0]
    bad_nan = Motion("nan-clip", np.where(np.arange(good.num_frames)[:, None, None] == 3, np.nan, good.joints))
    short = Motion("one-frame", good.joints[:1])
    slow = Motion("thirty-fps", good.joints, fps=30.0)
    e = stats([good.features])
    for m, msg in ((bad_nan, "nan-clip.*NaN"), (short, "one-frame.*at least 2"), (slow, "thirty-fps.*30.0 fps")):
        with pytest.raises(StoreError, match=msg):
            store.add([m], embeddings=e, mirror_embeddings=e)
    with pytest.raises(StoreError, match=r"embeddings must be \(2, 526\)"):
        store.add(bandai_motions[:2], embeddings=e, mirror_embeddings=e)
    with pytest.raises(StoreError, match="NaN"):
        store.add([good], embeddings=e * np.nan, mirror_embeddings=e)
    with pytest.raises(StoreError, match="opened without a model"):
        store.add([good])
    assert len(Store.open(store.path)) == 2
