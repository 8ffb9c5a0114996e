"""`lavimo export-onnx CKPT`: write a checkpoint's ONNX encoders so it runs without torch (training does it too)."""

from __future__ import annotations

import argparse

HELP = "export a checkpoint's encoders to ONNX (CKPT/onnx/) for torch-free inference, e.g. in Blender"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo export-onnx`."""
    p.add_argument("checkpoint", help="checkpoint folder (from `lavimo train`)")


def run(args: argparse.Namespace) -> int:
    """Export, then load the export once to prove it matches the checkpoint."""
    import time

    from ..model.onnx_export import export_onnx
    from ..runtime.onnx_embedder import OnnxEmbedder

    t0 = time.perf_counter()
    folder = export_onnx(args.checkpoint)
    OnnxEmbedder.from_checkpoint(args.checkpoint)  # verifies every file's sha256 against export.json
    size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    print(f"exported {folder} ({size:.0f} MB) in {time.perf_counter() - t0:.0f} s")
    return 0
