"""Atomic file writes: a reader sees the old file or the new one, never half of one, even after a crash.

    with atomic_write(path) as tmp:      # any writer that takes a path (PIL, safetensors, PyAV, Blender)
        image.save(tmp, format="PNG")
    write_atomic(path, text_or_bytes)    # the common case

The temporary file sits beside the target (same file system, so the rename is atomic), has a unique
hidden name (two processes writing the same file never share one; it keeps the target's extension
for writers that choose the format by it) and is synced before the rename; the folder is synced after
it, so the rename survives a power cut on POSIX. On any error the temporary file is removed and the
target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

TEMP_GLOB = ".*.tmp*"  # matches every temporary name atomic_write makes (store debris cleanup uses it)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block ends without error, sync it and rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        _fsync(tmp, os.O_RDWR)  # Windows syncs only a handle open for writing
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write bytes, or text as UTF-8, to `path` atomically; return the path."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def sync_folder(path: str | os.PathLike) -> None:
    """Make renames into folder `path` durable (POSIX; Windows cannot open a folder to sync it)."""
    if os.name == "posix":
        _fsync(Path(path), os.O_RDONLY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
