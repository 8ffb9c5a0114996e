"""The add-on's one search engine (model + store), opened on a background thread and kept warm between queries.

No bpy here: this runs on worker threads. A query's Future completes on the engine's thread; its done
callback hands the Result to the bridge job that asked, which delivers it on Blender's main thread.
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


class _Held:
    """What the add-on keeps open between queries; every field is read and written under `lock`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.session: Session | None = None
        self.embedder: tuple[tuple[str, str], object] | None = None  # ((model, device), Embedder): one model loaded
        self.store: tuple[str, object] | None = None  # (path, Store): a store opened without the engine


_held = _Held()
# One opener at a time (open_session, load_embedder, close): loading a model is slow, loading it twice worse.
# Never taken on the main thread while a worker may hold it, except by close() at unregister.
_opening = threading.RLock()


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
    key = EngineKey(str(model_path), str(store_path), device)
    with _opening:
        session = current()
        if session is not None and session.key == key:
            return session
        check_paths(key.model_path, key.store_path)
        embedder = load_embedder(key.model_path, device)
        from lavimo_core.store import Store

        session = Session(key, embedder, Store.open(key.store_path, embedder))
        with _held.lock:
            old, _held.session = _held.session, session
        if old is not None:
            old.close()
        return session


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
    """The embedder of a checkpoint (ONNX without torch when exported, else torch), loaded once per (model, device);
    one model is kept."""
    key = (str(model_path), device)
    with _opening:
        with _held.lock:
            held = _held.embedder
        if held is not None and held[0] == key:
            return held[1]
        if device != "cpu":
            check_device(device)  # a GPU needs torch; the CPU runs the ONNX export when the checkpoint has one
        from lavimo_core.runtime.backend import open_embedder

        embedder = open_embedder(model_path, device)
        with _held.lock:
            _held.embedder = (key, embedder)
        return embedder


def store_for(path: str):
    """The store at `path` for reading motions: the engine's own when it is that one, else opened once."""
    with _held.lock:
        session, held = _held.session, _held.store
    if session is not None and Path(session.key.store_path) == Path(path):
        return session.store
    if held is not None and held[0] == path:
        return held[1]
    from lavimo_core.store import Store

    store = Store.open(path)  # outside the lock: the main thread never waits for a model loading elsewhere
    with _held.lock:
        _held.store = (path, store)
    return store


def current() -> Session | None:
    """The open session, if any (e.g. to read a result's motion from its store)."""
    with _held.lock:
        return _held.session


def close() -> None:
    """Close the engine and forget the model (unregister)."""
    with _opening, _held.lock:
        session, _held.session, _held.embedder, _held.store = _held.session, None, None, None
    if session is not None:
        session.close()
