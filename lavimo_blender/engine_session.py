"""The add-on's one search engine (model + store), opened on a background thread and kept warm between queries.

No bpy here: this runs on worker threads. Engine callbacks arrive on the engine's thread and are
forwarded to the bridge job that asked, which delivers them on Blender's main thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from lavimo_core.errors import LavimoError


class SetupError(LavimoError):
    """The model or store the preferences point at cannot be used; the message says what to change."""


@dataclass(frozen=True)
class EngineKey:
    """What identifies an open engine: model folder, store folder and device."""

    model_path: str
    store_path: str
    device: str


class Session:
    """An open model, store and engine."""

    def __init__(self, key: EngineKey, embedder, store) -> None:
        from lavimo_core.engine import Engine

        self.key = key
        self.embedder = embedder
        self.store = store
        self.engine = Engine(embedder, store)

    def submit(self, query, job, k: int, on_result) -> None:
        """Submit `query` for `job`: progress goes to the job, the Result (None if cancelled) to `on_result`.

        Both arrive on the main thread; cancelling the job cancels the query.
        """
        future = self.engine.submit(query, k=k, on_progress=job.progress)
        job.on_cancel = future.cancel
        future.add_done_callback(lambda f: job.finish(on_result, None if f.cancelled() else f.result()))

    def close(self) -> None:
        """Stop the engine's worker."""
        self.engine.close()


_lock = threading.Lock()
_session: Session | None = None
_embedders: dict[tuple[str, str], object] = {}  # (model, device) -> Embedder, so switching stores keeps the model


def check_paths(model_path: str, store_path: str) -> None:
    """Fail fast (on the main thread, before any work) when the model or store folder is missing."""
    if not model_path:
        raise SetupError("no model is set: choose a checkpoint folder in Preferences > Add-ons > LAVIMO > Model")
    if not (Path(model_path) / "config.json").is_file():
        raise SetupError(f"model not found: {model_path} has no config.json; choose a LAVIMO checkpoint folder "
                         "in Preferences > Add-ons > LAVIMO > Model")
    if not store_path:
        raise SetupError("no store is set: add one in Preferences > Add-ons > LAVIMO, or index a folder of BVH "
                         "files (LAVIMO panel > Library)")
    if not Path(store_path).is_dir():
        raise SetupError(f"store not found: {store_path} does not exist; fix the path in Preferences > Add-ons > "
                         "LAVIMO, or index a folder of BVH files (LAVIMO panel > Library)")


def open_session(model_path: str, store_path: str, device: str = "cpu") -> Session:
    """The session for these paths, opening model and store if needed (slow the first time: call off the main thread)."""
    global _session
    key = EngineKey(str(model_path), str(store_path), device)
    with _lock:
        if _session is not None and _session.key == key:
            return _session
        check_paths(key.model_path, key.store_path)
        embedder = load_embedder(key.model_path, device)
        from lavimo_core.store import Store

        store = Store.open(key.store_path, embedder)
        if _session is not None:
            _session.close()
            _session = None
        _session = Session(key, embedder, store)
        return _session


def check_device(device: str) -> None:
    """Raise SetupError when this Blender's torch cannot run on `device` (imports torch: call off the main thread)."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise SetupError("Device is set to CUDA, but this Blender's torch has no usable CUDA (a CPU build, or no "
                         "NVIDIA GPU/driver): set Preferences > Add-ons > LAVIMO > Device to CPU")
    if device == "mps" and not torch.backends.mps.is_available():
        raise SetupError("Device is set to Metal, but Metal is not available on this machine: set Preferences > "
                         "Add-ons > LAVIMO > Device to CPU")


def load_embedder(model_path: str, device: str = "cpu"):
    """The embedder of a checkpoint (ONNX without torch when exported, else torch), loaded once per (model, device)."""
    key = (str(model_path), device)
    if key not in _embedders:
        if device != "cpu":
            check_device(device)  # a GPU needs torch; the CPU runs the ONNX export when the checkpoint has one
        from lavimo_core.runtime.backend import open_embedder

        _embedders.clear()  # keep one model in memory
        _embedders[key] = open_embedder(model_path, device)
    return _embedders[key]


_stores: dict[str, object] = {}  # stores opened without the engine (results of an earlier store), by path


def store_for(path: str):
    """The store at `path` for reading motions: the engine's own when it is that one, else opened once."""
    session = _session
    if session is not None and Path(session.key.store_path) == Path(path):
        return session.store
    if path not in _stores:
        from lavimo_core.store import Store

        _stores.clear()
        _stores[path] = Store.open(path)
    return _stores[path]


def current() -> Session | None:
    """The open session, if any (e.g. to read a result's motion from its store)."""
    return _session


def close() -> None:
    """Close the engine and forget the model (unregister)."""
    global _session
    with _lock:
        if _session is not None:
            _session.close()
            _session = None
        _embedders.clear()
        _stores.clear()
