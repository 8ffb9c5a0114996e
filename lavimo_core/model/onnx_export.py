"""Export a checkpoint's encoders to ONNX (text head with its MiniLM backbone, motion, video) for torch-free inference.

    export_onnx("path/to/checkpoint")   # writes CKPT/onnx/ (see lavimo_core.runtime.onnx_files)

Each graph ends in the L2 normalisation retrieval compares, so the runtime only pads, runs and averages
windows. Batch and sequence length stay dynamic (torch.export, the dynamo exporter).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import warnings
from pathlib import Path

import torch
from torch import nn

from ..runtime import onnx_files
from .checkpoint import load_checkpoint
from .ensemble import Ensemble
from .lavimo import Lavimo, normalized
from .text_backbone import TextBackbone

OPSET = 18


class _Text(nn.Module):
    def __init__(self, backbone: nn.Module, model: Lavimo | Ensemble):
        super().__init__()
        self.backbone, self.model = backbone, model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state.float()
        return normalized(self.model.encode_text(hidden, attention_mask.bool()))


class _Motion(nn.Module):
    def __init__(self, model: Lavimo | Ensemble):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return normalized(self.model.encode_motion(features, mask))


class _Video(nn.Module):
    def __init__(self, model: Lavimo | Ensemble):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return normalized(self.model.encode_video(features, present))


def export_onnx(checkpoint: str | Path, *, text_float16: bool = True) -> Path:
    """Write the checkpoint's ONNX encoders, tokenizer and export.json into CKPT/onnx/; returns that folder.

    `text_float16`: store the text encoder's weights as float16 (see `store_weights_float16`).
    """
    checkpoint = Path(checkpoint)
    model, config, meta = load_checkpoint(checkpoint, "cpu")
    cfg = model.cfg
    backbone = TextBackbone(meta["text_model"]["name"], cfg.text_max_tokens, "cpu")
    folder = onnx_files.onnx_folder(checkpoint)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    batch = backbone.tokenizer(["a person walks forward", "someone jumps"], padding=True, return_tensors="pt")
    # Example sizes differ from every model dimension, so torch.export keeps batch and length symbolic.
    gen = torch.Generator().manual_seed(0)
    motion = torch.randn(3, 37, cfg.motion_feature_dim, generator=gen)
    mask = torch.ones(3, 37, dtype=torch.bool)
    mask[1, 30:] = False
    files = {"text": "text.onnx", "motion": "motion.onnx", "tokenizer": "tokenizer.json"}
    _export(_Text(backbone.model, model), (batch["input_ids"], batch["attention_mask"]),
            ("input_ids", "attention_mask"), "text_embedding", partial / files["text"])
    if text_float16:
        store_weights_float16(partial / files["text"])
    _export(_Motion(model), (motion, mask), ("features", "mask"), "motion_embedding", partial / files["motion"])
    if model.has_video:
        video = torch.randn(3, 29, cfg.video_feature_dim, generator=gen)
        present = torch.ones(3, 29, dtype=torch.bool)
        present[2, ::3] = False
        files["video"] = "video.onnx"
        _export(_Video(model), (video, present), ("features", "present"), "video_embedding", partial / files["video"])
    backbone.tokenizer.backend_tokenizer.save(str(partial / files["tokenizer"]))
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)
    info = {"dim": model.embedding_dim, "text_max_tokens": int(cfg.text_max_tokens),
            "window_frames": int(config.train.crop_max_frames), "motion_feature_dim": int(cfg.motion_feature_dim),
            "video_feature_dim": int(cfg.video_feature_dim), "has_video": model.has_video,
            "text_model": meta["text_model"], "text_weights": "float16" if text_float16 else "float32",
            "opset": OPSET, "torch": torch.__version__}
    onnx_files.write_manifest(checkpoint, files, info)
    return folder


def store_weights_float16(path: Path, min_elements: int = 1024) -> None:
    """Rewrite an ONNX file with its float32 weights of `min_elements` or more stored as float16, each behind a Cast
    to float32 that ONNX Runtime folds when it loads the graph.

    Why: the MiniLM backbone is most of the add-on's size (92 -> 46 MB on disk) while compute stays float32, so
    speed is unchanged; measured on the test captions, cosine to torch >= 0.9999996 and R@k unchanged (int8
    was not: R@1 -1.7 to -6.9 points). Small tensors (norms, biases) keep float32: they weigh nothing.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    weights, casts = [], []
    for init in graph.initializer:
        w = numpy_helper.to_array(init) if init.data_type == TensorProto.FLOAT else None
        if w is None or w.size < min_elements or not np.isfinite(w.astype(np.float16)).all():
            weights.append(init)
            continue
        weights.append(numpy_helper.from_array(w.astype(np.float16), init.name + "__float16"))
        casts.append(helper.make_node("Cast", [init.name + "__float16"], [init.name], to=TensorProto.FLOAT))
    graph.ClearField("initializer")
    graph.initializer.extend(weights)
    nodes = casts + list(graph.node)
    graph.ClearField("node")
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _export(module: nn.Module, args: tuple, inputs: tuple[str, str], output: str, path: Path) -> None:
    """One encoder to one self-contained .onnx file, batch (dim 0) and length (dim 1) dynamic."""
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    names = list(module.forward.__code__.co_varnames[1:3])
    shapes = {names[0]: {0: batch, 1: length}, names[1]: {0: batch, 1: length}}
    # The exporter prints progress and warns about torch internals; neither is for the user.
    quiet = io.StringIO()
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(quiet), _quiet_logs():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), args, str(path), dynamo=True, external_data=False, opset_version=OPSET,
                          input_names=list(inputs), output_names=[output], dynamic_shapes=shapes)


@contextlib.contextmanager
def _quiet_logs():
    log = logging.getLogger("torch.onnx")
    before = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(before)
