"""`OnnxEmbedder`: the Embedder interface on a checkpoint's ONNX export, with ONNX Runtime and `tokenizers` only.

    emb = OnnxEmbedder.from_checkpoint("path/to/checkpoint")   # needs CKPT/onnx/ (lavimo export-onnx)
    q = emb.embed_text(["a person walks sadly"])              # the same (N, dim) unit vectors as Embedder

Never imports torch or transformers, so it runs inside Blender with a few small wheels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..file_hash import file_sha256
from ..model.calibration import Calibration
from ..model.encoder_inputs import check_motion_features, motion_features, video_windows
from ..model.errors import InputShapeError
from ..model.windows import average_windows, split_windows
from . import onnx_files

if TYPE_CHECKING:
    from ..motion.motion import Motion
    from ..video.features import VideoFeatures

BATCH = 32


class OnnxEmbedder:
    """Embeds queries and motions with a checkpoint's ONNX encoders; outputs float32 (N, dim), unit length."""

    backend = "onnx"

    def __init__(self, folder: str | Path, threads: int = 1):
        self.folder = Path(folder)
        self.export = onnx_files.read_manifest(self.folder)  # raises OnnxModelError saying what to do
        self.meta = _read_meta(self.folder)
        if self.meta.get("text_model", {}).get("sha256") != self.export["text_model"]["sha256"]:
            raise onnx_files.OnnxModelError(
                f"the ONNX text encoder in {self.folder / onnx_files.FOLDER} was exported with another text model "
                f"than checkpoint.json names; {onnx_files.EXPORT_HINT.format(ckpt=self.folder)}")
        self.device = "cpu"
        self.threads = int(threads)
        self.dim = int(self.export["dim"])
        self.window_frames = int(self.export["window_frames"])
        self.weights_hash = file_sha256(self.folder / onnx_files.WEIGHTS)
        self.model_id = f"lavimo-{self.meta.get('preset', 'custom')}-{self.weights_hash[:12]}"
        self.calibration = Calibration.from_dict(self.meta.get("calibration", {}))
        self._sessions: dict[str, object] = {}
        self._tokenizers = None
        _import_runtime()  # a damaged or foreign package fails here, with what to do, not at the first query

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu", threads: int = 1) -> OnnxEmbedder:
        """Load a checkpoint's ONNX export (raises OnnxModelError if missing, damaged or from other weights)."""
        if device != "cpu":
            raise InputShapeError(f"the ONNX embedder runs on the CPU only, not {device!r}; use the torch "
                                  "Embedder for a GPU")
        return cls(path, threads)

    @property
    def has_video(self) -> bool:
        """Whether this model embeds videos (False for the bi-modal ablation)."""
        return bool(self.export["has_video"])

    @property
    def text_max_tokens(self) -> int:
        """How many tokens of a prompt the text encoder reads; the rest is ignored."""
        return int(self.export["text_max_tokens"])

    def _session(self, kind: str):
        if kind not in self._sessions:
            import onnxruntime as ort
            opts = ort.SessionOptions()
            # One short query has little to split; see engine._one_torch_thread for the measurement.
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            path = self.folder / onnx_files.FOLDER / self.export["files"][kind]["path"]
            self._sessions[kind] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return self._sessions[kind]

    def _tokenizer(self, truncate: bool):
        if self._tokenizers is None:
            from tokenizers import Tokenizer
            path = str(self.folder / onnx_files.FOLDER / self.export["files"]["tokenizer"]["path"])
            cut, whole = Tokenizer.from_file(path), Tokenizer.from_file(path)
            for tok in (cut, whole):
                tok.no_padding()
                tok.no_truncation()
            cut.enable_truncation(self.text_max_tokens)  # as transformers' truncation=True, max_length=...
            self._tokenizers = (cut, whole)
        return self._tokenizers[0 if truncate else 1]

    def count_text_tokens(self, text: str) -> int:
        """Tokens in `text` as the text model's tokenizer counts them (special tokens included), untruncated."""
        return len(self._tokenizer(truncate=False).encode(str(text)).ids)

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """Captions or free-text queries -> (N, dim)."""
        texts = [str(t) for t in texts]
        out = []
        for i in range(0, len(texts), BATCH):
            ids = [e.ids for e in self._tokenizer(truncate=True).encode_batch(texts[i:i + BATCH])]
            x, mask = pad_sequences([np.asarray(t, dtype=np.int64)[:, None] for t in ids])
            out.append(self._session("text").run(None, {"input_ids": x[..., 0].astype(np.int64),
                                                        "attention_mask": mask.astype(np.int64)})[0])
        return _stack(out, self.dim)

    def embed_motion(self, motions: list[Motion]) -> np.ndarray:
        """Canonical motions -> (N, dim); uses Motion.features, computing them from the joints when None."""
        return self.embed_motion_features(motion_features(motions))

    def embed_motion_features(self, features: list[np.ndarray]) -> np.ndarray:
        """Raw (un-normalised) HumanML3D features, one (T, 263) array per motion -> (N, dim)."""
        check_motion_features(features, int(self.export["motion_feature_dim"]))
        pieces, owner = split_windows(features, self.window_frames)
        out = []
        for chunk in _chunks(pieces):
            x, mask = pad_sequences(chunk)
            out.append(self._session("motion").run(None, {"features": x, "mask": mask})[0])
        return average_windows(_stack(out, self.dim), owner, len(features))

    def embed_video(self, videos: list[VideoFeatures]) -> np.ndarray:
        """Per-frame pose features of videos -> (N, dim); frames without a person are masked out."""
        if not self.has_video:
            raise InputShapeError("this model was trained without video (bi-modal ablation); use a tri-modal checkpoint")
        pieces, owner = video_windows(videos, int(self.export["video_feature_dim"]), self.window_frames)
        out = []
        for chunk in _chunks(pieces):
            x, _ = pad_sequences(chunk)
            out.append(self._session("video").run(None, {"features": np.ascontiguousarray(x[..., :-1]),
                                                         "present": x[..., -1] > 0.5})[0])
        return average_windows(_stack(out, self.dim), owner, len(videos))


def _import_runtime() -> None:
    for name in ("onnxruntime", "tokenizers"):
        try:
            __import__(name)
        except ImportError as exc:
            missing = isinstance(exc, ModuleNotFoundError) and exc.name == name
            raise onnx_files.RuntimePackageError(
                f"the {name} package {'is not installed' if missing else 'cannot be loaded'}"
                f"{'' if missing else f' ({type(exc).__name__}: {exc})'}: it runs the model. In Blender, remove "
                "LAVIMO and install its zip for this platform again (it carries the package); elsewhere "
                f"`pip install -r requirements/addon.txt`") from None


def pad_sequences(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack (T_i, F) arrays into zero-padded (B, max T, F) and a (B, max T) bool mask (True = real)."""
    length = max(a.shape[0] for a in arrays)
    dtype = np.result_type(*[a.dtype for a in arrays])
    x = np.zeros((len(arrays), length, arrays[0].shape[1]), dtype=dtype if dtype == np.int64 else np.float32)
    mask = np.zeros((len(arrays), length), dtype=bool)
    for i, a in enumerate(arrays):
        x[i, :a.shape[0]] = a
        mask[i, :a.shape[0]] = True
    return x, mask


def _read_meta(folder: Path) -> dict:
    path = folder / "checkpoint.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise onnx_files.OnnxModelError(f"checkpoint {folder} lacks checkpoint.json; copy the whole folder") from None
    except (OSError, ValueError) as exc:
        raise onnx_files.OnnxModelError(f"{path} is not valid JSON ({exc}); re-copy the checkpoint") from None
    return meta if isinstance(meta, dict) else {}


def _chunks(items: list) -> list[list]:
    return [items[i:i + BATCH] for i in range(0, len(items), BATCH)]


def _stack(chunks: list[np.ndarray], dim: int) -> np.ndarray:
    if not chunks:
        return np.zeros((0, dim), dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32)
