"""Which embedder runs a checkpoint: the ONNX one (no torch) or the torch one, and a clear error when neither can.

    embedder = open_embedder("path/to/checkpoint")            # "auto": ONNX when exported, else torch
    embedder = open_embedder(path, backend="torch")           # training machines, GPUs

LAVIMO_BACKEND=onnx|torch|auto in the environment overrides "auto" (e.g. to compare the two).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from . import onnx_files

BACKENDS = ("auto", "onnx", "torch")


def installed(module: str) -> bool:
    """Whether `import module` would find it, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def choose_backend(checkpoint: str | Path, device: str = "cpu", backend: str = "auto") -> str:
    """"onnx" or "torch" for this checkpoint and device (raises OnnxModelError when neither can run it)."""
    if backend == "auto":
        backend = os.environ.get("LAVIMO_BACKEND", "auto").strip().lower() or "auto"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    onnx_ready = installed("onnxruntime") and installed("tokenizers")
    if backend == "auto":
        if device == "cpu" and onnx_files.has_onnx(checkpoint) and (onnx_ready or not installed("torch")):
            backend = "onnx"
        elif installed("torch"):
            backend = "torch"
        else:
            backend = "onnx"  # the ONNX path says what is missing
    if backend == "onnx" and not onnx_ready:
        raise onnx_files.OnnxModelError("running a model without torch needs the onnxruntime and tokenizers "
                                        "packages; reinstall LAVIMO (the extension zip carries them)")
    return backend


def open_embedder(checkpoint: str | Path, device: str = "cpu", backend: str = "auto"):
    """The Embedder (torch) or OnnxEmbedder for a checkpoint folder, chosen by choose_backend."""
    if choose_backend(checkpoint, device, backend) == "onnx":
        from .onnx_embedder import OnnxEmbedder
        return OnnxEmbedder.from_checkpoint(checkpoint, device)
    from ..model.embedder import Embedder
    return Embedder.from_checkpoint(checkpoint, device=device)
