"""A hostile or damaged store, odd folders and bad clips: refused with a message, nothing outside the store touched."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from lavimo_core.motion.motion import Motion
from lavimo_core.paths import find_dataset
from lavimo_core.store import Store, StoreCorruptError, StoreError
from lavimo_core.store.build import build_store, load_source

BANDAI = find_dataset("bandai-namco-1") / "data"


# ---------------------------------------------------------------- item 2: manifest paths stay inside the store

@pytest.mark.parametrize("bad_name", ["../../victim/segments/000001", "/tmp/000001", "..", "000001/../../x", 7, None])
def test_segment_name_outside_the_store_is_refused(edit_manifest, tmp_path, make_store, bandai_motions, bad_name):
    victim = make_store(bandai_motions[:3], name="victim")
    store = make_store(bandai_motions[3:6], name="store")
    before = sorted(p.name for p in (victim.path / "segments" / "000001").iterdir())
    edit_manifest(store.path, lambda m: m["segments"][0].update(name=bad_name))
    with pytest.raises(StoreCorruptError, match="segment name"):
        Store.open(store.path)
    assert sorted(p.name for p in (victim.path / "segments" / "000001").iterdir()) == before
    assert len(Store.open(victim.path)) == 3


def test_bogus_removed_ids_are_refused(edit_manifest, tmp_path, make_store, bandai_motions):
    store = make_store(bandai_motions[:4])
    # Ids the segment does not hold: counted against it, they would make a later remove drop its live motions.
    edit_manifest(store.path, lambda m: m["segments"][0].update(removed=["nope", "nope2", "nope3"]))
    with pytest.raises(StoreCorruptError, match="does not hold"):
        Store.open(store.path)
    edit_manifest(store.path, lambda m: m["segments"][0].update(removed=[m_.name for m_ in bandai_motions[:4]]))
    with pytest.raises(StoreCorruptError, match="removed lists 4"):
        Store.open(store.path)
    edit_manifest(store.path, lambda m: m["segments"][0].update(removed=[bandai_motions[0].name] * 2))
    with pytest.raises(StoreCorruptError, match="distinct"):
        Store.open(store.path)


@pytest.mark.parametrize("edit, words", [
    (lambda m: m.update(faiss={"file": "../../etc/passwd", "ids_sha256": "x", "rows": 1, "bytes": 1}), "faiss file"),
    (lambda m: m.update(next_segment=1), "next_segment"),
    (lambda m: m["segments"][0].update(count="3"), "count"),
    (lambda m: m["segments"][0].update(bytes={"../x": 1}), "bytes"),
    (lambda m: m.update(segments=[m["segments"][0], m["segments"][0]]), "twice"),
])
def test_bad_manifest_fields_are_refused_with_a_message(edit_manifest, make_store, bandai_motions, edit, words):
    store = make_store(bandai_motions[:3])
    edit_manifest(store.path, edit)
    with pytest.raises(StoreCorruptError, match=words):
        Store.open(store.path)


# ---------------------------------------------------------------- item 3: never delete what the store did not create

def test_unlisted_entries_that_are_not_ours_survive_a_write(tmp_path, make_store, bandai_motions, stats):
    store = make_store(bandai_motions[:3])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("mine")
    segs = store.path / "segments"
    (segs / "notes.txt").write_text("mine")
    (segs / "mine").mkdir()
    (segs / "000009").symlink_to(outside, target_is_directory=True)   # looks like a segment, leads out
    (segs / ".tmp-000002-abcdef12").mkdir()                           # debris of an interrupted write: ours
    (segs / "000005").mkdir()                                         # an unlisted segment: ours
    (store.path / ".tmp-store.json-0123abcd").write_text("{")                # an older LAVIMO's temp name
    (store.path / ".store.json.0123abcd.tmp.json").write_text("{")           # lavimo_core.atomic's
    (store.path / ".DS_Store").write_text("mine")                             # hidden, but not ours
    emb, mir = stats.embed(bandai_motions[3:4])
    store.add(bandai_motions[3:4], embeddings=emb, mirror_embeddings=mir)
    store.remove([bandai_motions[0].name])
    store.compact()
    assert (outside / "precious.txt").read_text() == "mine"
    assert (segs / "notes.txt").read_text() == "mine" and (segs / "mine").is_dir() and (segs / "000009").is_symlink()
    assert not (segs / ".tmp-000002-abcdef12").exists() and not (segs / "000005").exists()
    assert not (store.path / ".tmp-store.json-0123abcd").exists()
    assert not (store.path / ".store.json.0123abcd.tmp.json").exists() and (store.path / ".DS_Store").exists()
    assert len(Store.open(store.path)) == 3


def test_listed_segment_that_is_a_symlink_is_refused(tmp_path, make_store, bandai_motions):
    victim = make_store(bandai_motions[:3], name="victim")
    store = make_store(bandai_motions[3:6], name="store")
    seg = store.path / "segments" / "000001"
    shutil.rmtree(seg)
    seg.symlink_to(victim.path / "segments" / "000001", target_is_directory=True)
    with pytest.raises(StoreCorruptError, match="symbolic link"):
        Store.open(store.path)


def test_a_partial_folder_that_is_not_ours_is_kept(tmp_path, stats_embedder, bandai_motions):
    mine = tmp_path / "lib.partial"
    mine.mkdir()
    (mine / "thesis.tex").write_text("mine")
    with pytest.raises(StoreError, match="not an interrupted LAVIMO build"):
        build_store(bandai_motions[:2], stats_embedder, tmp_path / "lib")
    assert (mine / "thesis.tex").read_text() == "mine" and not (tmp_path / "lib").exists()
    mine.joinpath("thesis.tex").unlink()  # an empty one is fine to use
    assert build_store(bandai_motions[:2], stats_embedder, tmp_path / "lib").added == 2


def test_overwrite_refuses_a_store_folder_holding_user_files(tmp_path, stats_embedder, bandai_motions):
    out = tmp_path / "lib"
    build_store(bandai_motions[:2], stats_embedder, out)
    (out / "my-notes.md").write_text("mine")
    with pytest.raises(StoreError, match="my-notes.md.*move them"):
        build_store(bandai_motions[2:4], stats_embedder, out, overwrite=True)
    assert (out / "my-notes.md").read_text() == "mine" and len(Store.open(out)) == 2
    assert not out.with_name("lib.partial").exists()


# ---------------------------------------------------------------- item 4: a bad clip is skipped by name, the build goes on

def _corrupt(src, dst, column, value):
    lines = src.read_text().splitlines()
    at = lines.index("MOTION") + 3 + 5
    parts = lines[at].split()
    parts[column] = value
    lines[at] = " ".join(parts)
    dst.write_text("\n".join(lines) + "\n")


def test_absurd_clips_are_skipped_by_name_and_the_build_goes_on(tmp_path, stats_embedder):
    lib = tmp_path / "clips"
    lib.mkdir()
    good = sorted(BANDAI.glob("*.bvh"))[:3]
    for f in good:
        shutil.copy(f, lib)
    _corrupt(good[0], lib / "root-1e30.bvh", 0, "1e30")   # used to abort the whole build, no file named
    _corrupt(good[0], lib / "root-1e20.bvh", 1, "1e20")   # used to be indexed silently
    _corrupt(good[0], lib / "spin-1e30.bvh", 3, "1e30")   # used to be skipped with a wrong reason
    motions, skipped = load_source(lib)
    assert sorted(m.name for m in motions) == sorted(f.stem for f in good)
    by_file = {os.path.basename(f): reason for f, reason in skipped}
    assert set(by_file) == {"root-1e30.bvh", "root-1e20.bvh", "spin-1e30.bvh"}
    assert "Xposition" in by_file["root-1e30.bvh"] and "Yposition" in by_file["root-1e20.bvh"]
    assert "rotation" in by_file["spin-1e30.bvh"] and all(str(lib) in r for r in by_file.values())
    report = build_store(motions, stats_embedder, tmp_path / "lib")
    assert report.added == 3 and len(Store.open(tmp_path / "lib")) == 3


def test_a_motion_the_model_cannot_embed_is_skipped_not_fatal(tmp_path, stats, stats_embedder, bandai_motions):
    class NaNFor(type(stats_embedder)):
        def embed_motion(self, motions):
            out = super().embed_motion(motions)
            out[[m.name.startswith(bandai_motions[1].name) for m in motions]] = np.nan
            return out

    report = build_store(bandai_motions[:4], NaNFor(stats), tmp_path / "s", batch_size=2)
    assert report.added == 3 and bandai_motions[1].name in report.skipped[0][1]
    assert "invalid" in report.skipped[0][1]
    assert Store.open(tmp_path / "s").ids() == [m.name for m in bandai_motions[:4] if m is not bandai_motions[1]]


def test_joints_far_from_the_origin_are_refused_by_name(tmp_path, stats_embedder, bandai_motions):
    far = Motion("far-away", bandai_motions[0].joints + np.float32(1e6), source=bandai_motions[0].source)
    report = build_store([far, bandai_motions[1]], stats_embedder, tmp_path / "s")
    assert report.added == 1 and "far-away" in report.skipped[0][1] and "re-export" in report.skipped[0][1]


# ---------------------------------------------------------------- item 7: a read-only store

def test_read_only_store_is_refused_with_a_message_and_no_partial(read_only, tmp_path, stats_embedder, bandai_motions):
    out = tmp_path / "lib"
    build_store(bandai_motions[:2], stats_embedder, out)
    with read_only(out):
        for mode in ({"append": True}, {"overwrite": True}):
            with pytest.raises(StoreError, match="cannot write to"):
                build_store(bandai_motions[2:4], stats_embedder, out, **mode)
        with pytest.raises(StoreError, match="cannot write to"):
            Store.open(out).remove([bandai_motions[0].name])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib"]
    assert Store.open(out).ids() == [m.name for m in bandai_motions[:2]]


# ---------------------------------------------------------------- item 5: embedding checksums

def _flip(path, at_fraction=0.9):
    data = bytearray(path.read_bytes())
    data[int(len(data) * at_fraction)] ^= 0x40
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_the_embeddings_is_refused_on_open(make_store, bandai_motions):
    # It used to pass `lavimo info --verify` ("every motion read back intact") and rank the damaged row.
    store = make_store(bandai_motions[:4])
    _flip(store.path / "segments" / "000001" / "embeddings.safetensors")
    with pytest.raises(StoreCorruptError, match="embeddings.safetensors does not match its checksum"):
        Store.open(store.path)


def test_a_nan_embedding_in_a_store_without_checksums_is_refused(make_store, bandai_motions, edit_manifest):
    from safetensors.numpy import load, save

    store = make_store(bandai_motions[:4])
    f = store.path / "segments" / "000001" / "embeddings.safetensors"
    t = load(f.read_bytes())
    t["embedding"][2] = np.nan
    f.write_bytes(save(t, metadata={"format": "lavimo-store", "format_version": "1"}))
    edit_manifest(store.path, lambda m: m["segments"][0].pop("sha256"))  # as written by an older LAVIMO
    with pytest.raises(StoreCorruptError, match="row 2 is not a unit vector"):
        Store.open(store.path)


def test_verify_checks_every_file_against_its_checksum(make_store, bandai_motions, capsys, edit_manifest):
    from lavimo_core.cli import main

    store = make_store(bandai_motions[:4])
    assert main(["info", str(store.path), "--verify"]) == 0
    assert "every file matches its checksum" in capsys.readouterr().out
    _flip(store.path / "segments" / "000001" / "motions.safetensors")  # not read on open: --verify finds it
    Store.open(store.path)
    assert main(["info", str(store.path), "--verify"]) == 2
    err = capsys.readouterr().err
    assert "motions.safetensors does not match its checksum" in err and err.count("\n") == 1
    edit_manifest(store.path, lambda m: m["segments"][0].pop("sha256"))
    _flip(store.path / "segments" / "000001" / "motions.safetensors")  # undo: an older store, intact
    assert main(["info", str(store.path), "--verify"]) == 0
    assert "1 segment(s) from an older LAVIMO have no checksums" in capsys.readouterr().out
