"""Atomic writes (lavimo_core.atomic): all or nothing, synced, and no two writers share a temporary file."""

from __future__ import annotations

import json
import os

import pytest

from lavimo_core.atomic import TEMP_GLOB, atomic_write, write_atomic


def test_text_and_bytes_round_trip(tmp_path):
    assert write_atomic(tmp_path / "a" / "x.json", '{"é": 1}').read_text(encoding="utf-8") == '{"é": 1}'
    assert write_atomic(tmp_path / "y.bin", b"\x00\xff").read_bytes() == b"\x00\xff"
    assert not list(tmp_path.rglob(TEMP_GLOB))


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    path = write_atomic(tmp_path / "results.json", "old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as tmp:
        tmp.write_text("half of the new")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path):
    path = tmp_path / "store.json"
    with atomic_write(path) as first:
        first.write_text("first")
        write_atomic(path, "second")  # another writer (thread or process) finishes meanwhile
        assert first.read_text() == "first"
    assert path.read_text() == "first" and not list(tmp_path.glob(TEMP_GLOB))


def test_the_temporary_file_keeps_the_extension_writers_choose_formats_by(tmp_path):
    with atomic_write(tmp_path / "clip.mp4") as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path and tmp.name.startswith(".")
        tmp.write_bytes(b"")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names open files through /proc (Linux)")
def test_writes_are_synced_before_the_rename(tmp_path, monkeypatch):
    """The model config (and every other writer) is fsynced, file and folder; before, only the store synced."""
    from lavimo_core.model.config import preset

    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd))
    path = tmp_path / "config.json"
    preset("tiny").save(path)
    assert json.loads(path.read_text())["preset"] == "tiny"
    assert any(".config.json." in s for s in synced) and str(tmp_path) in synced
