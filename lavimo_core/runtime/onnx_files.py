"""The ONNX files of a checkpoint: where they live, what onnx/export.json records, and checking they belong together.

    CKPT/onnx/text.onnx        token ids + attention mask -> unit text embedding (MiniLM backbone + text head)
    CKPT/onnx/motion.onnx      raw 263-dim features + mask -> unit motion embedding
    CKPT/onnx/video.onnx       pose features + present -> unit video embedding (tri-modal models only)
    CKPT/onnx/tokenizer.json   the backbone's own tokenizer (Hugging Face `tokenizers` format)
    CKPT/onnx/export.json      sha256 of each file and of the model.safetensors they were exported from

No torch here: the exporter (lavimo_core.model.onnx_export) writes these, the ONNX embedder reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import LavimoError
from ..file_hash import file_sha256
from ..model.errors import CheckpointError

FOLDER, MANIFEST = "onnx", "export.json"
FORMAT, VERSION = "lavimo-onnx", 1
WEIGHTS = "model.safetensors"  # the checkpoint's torch weights (lavimo_core.model.checkpoint.WEIGHTS)
EXPORT_HINT = "run `lavimo export-onnx {ckpt}` on a machine with torch installed"


class OnnxModelError(CheckpointError):
    """A checkpoint's ONNX files are missing, damaged, or exported from other weights; the message says what to do."""


class RuntimePackageError(LavimoError):
    """onnxruntime or tokenizers is missing or cannot be loaded (damaged, or built for another platform)."""


def onnx_folder(checkpoint: str | Path) -> Path:
    """The folder holding a checkpoint's ONNX files."""
    return Path(checkpoint) / FOLDER


def has_onnx(checkpoint: str | Path) -> bool:
    """Whether the checkpoint carries an ONNX export (not whether it is valid: see read_manifest)."""
    return (onnx_folder(checkpoint) / MANIFEST).is_file()


def write_manifest(checkpoint: str | Path, files: dict[str, str], info: dict[str, Any]) -> Path:
    """Record each exported file's sha256 and the weights it came from in onnx/export.json (atomically)."""
    folder = onnx_folder(checkpoint)
    data = {"format": FORMAT, "version": VERSION,
            "weights_sha256": file_sha256(Path(checkpoint) / WEIGHTS),
            "files": {kind: {"path": name, "sha256": file_sha256(folder / name)} for kind, name in files.items()},
            **info}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)
    return folder / MANIFEST


def read_manifest(checkpoint: str | Path, verify: bool = True) -> dict[str, Any]:
    """onnx/export.json, checked against the checkpoint's weights and every file's sha256 (raises OnnxModelError)."""
    checkpoint = Path(checkpoint)
    hint = EXPORT_HINT.format(ckpt=checkpoint)
    path = onnx_folder(checkpoint) / MANIFEST
    if not path.is_file():
        raise OnnxModelError(f"checkpoint {checkpoint} has no ONNX files ({FOLDER}/{MANIFEST}), so it cannot run "
                             f"without torch; {hint} (it writes {FOLDER}/ next to the weights)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OnnxModelError(f"{path} is unreadable ({exc}); {hint} to write it again") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise OnnxModelError(f"{path} is not a LAVIMO ONNX export of version {VERSION}; {hint}")
    if not verify:
        return data
    weights = checkpoint / WEIGHTS
    if not weights.is_file():
        raise OnnxModelError(f"checkpoint {checkpoint} lacks {WEIGHTS}; copy the whole checkpoint folder")
    if file_sha256(weights) != data.get("weights_sha256"):
        raise OnnxModelError(f"the ONNX files in {path.parent} were exported from other weights than {weights} "
                             f"(sha256 {str(data.get('weights_sha256'))[:12]} vs {file_sha256(weights)[:12]}): they do "
                             f"not match this checkpoint; {hint} to export them again")
    for kind, entry in data.get("files", {}).items():
        f = path.parent / entry["path"]
        if not f.is_file():
            raise OnnxModelError(f"{f} ({kind}) is missing; {hint}, or copy the whole checkpoint folder")
        if file_sha256(f) != entry["sha256"]:
            raise OnnxModelError(f"{f} ({kind}) is damaged or was replaced (its sha256 differs from {MANIFEST}); "
                                 f"{hint}, or copy the whole checkpoint folder again")
    return data
