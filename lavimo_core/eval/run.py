"""Evaluate a checkpoint on a split: every direction (text/motion/video) under protocols (a), (b), (d).

Queries, one per clip of the split, drawn with a fixed seed:
- text: one of the clip's captions (naming content and style); for (b) at the content level, a caption
  that names only the content ("a person walks backwards");
- video: the clip rendered to an mp4 from a random camera, then decoded, run through MediaPipe and
  featurized (video_queries.py) - the path a user's video takes;
- motion: the clip's features.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..model.embedder import Embedder
from ..model.errors import EmptyDatasetError
from ..train.clips import clip_seed, content_captions
from .protocols import protocol_a, protocol_b, protocol_d

DIRECTIONS = ("t2m", "m2t", "v2m", "m2v", "t2v")


def evaluate(checkpoint: str | Path, split: str = "test", *, video: bool = True, seed: int = 0,
             dataset: str | None = None, video_fps: float = 30.0, progress: bool = False,
             embedder: Embedder | None = None) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, Any]]:
    """-> (results[direction][protocol] = metrics, info about the run)."""
    from ..train.data import load_splits
    started = time.perf_counter()
    emb = embedder or Embedder.from_checkpoint(checkpoint)
    spec = dataset or _dataset_of(emb.folder)
    data = load_splits(spec, progress=progress)
    motions = getattr(data, split, None)
    if motions is None:
        raise EmptyDatasetError(f"unknown split {split!r}; use train, val or test")
    if len(motions) < 2:
        raise EmptyDatasetError(f"split {split!r} of {spec!r} has {len(motions)} motions; evaluation needs at least 2")

    labels = [dict(m.labels) for m in motions]
    labelled = all("content" in lab for lab in labels)
    captions, content_caps = query_captions(motions, seed, labelled)

    e = {"m": emb.embed_motion(motions), "t": emb.embed_text(captions), "tc": emb.embed_text(content_caps)}
    info: dict[str, Any] = {"checkpoint": str(checkpoint), "model_id": emb.model_id, "split": split,
                            "dataset": spec, "n": len(motions), "seed": seed, "labelled": labelled}
    if video and emb.has_video:
        from .video_queries import video_queries
        vids = video_queries(motions, seed, video_fps, progress)
        e["v"] = emb.embed_video(vids)
        info["video"] = {"path": "render mp4 -> decode -> MediaPipe -> features", "fps": video_fps,
                         "mean_detection_rate": float(np.mean([v.detection_rate for v in vids]))}

    pairs = {"t2m": ("t", "m", "tc", "m"), "m2t": ("m", "t", "m", "tc"), "v2m": ("v", "m", "v", "m"),
             "m2v": ("m", "v", "m", "v"), "t2v": ("t", "v", "tc", "v")}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for direction, (q, g, q_content, g_content) in pairs.items():
        if q not in e or g not in e:
            continue
        sim = e[q] @ e[g].T
        r = {"a": protocol_a(sim)}
        if labelled:
            r["b-content"] = protocol_b(e[q_content] @ e[g_content].T, labels, labels, "content")
            r["b-content+style"] = protocol_b(sim, labels, labels, "content+style")
        r["d"] = protocol_d(sim, seed)
        results[direction] = r
    info["seconds"] = time.perf_counter() - started
    return results, info


def query_captions(motions: list, seed: int = 0, labelled: bool = True) -> tuple[list[str], list[str]]:
    """Per motion, the text query evaluation asks with: one of its captions, and one content-only caption (its
    caption again without labels), each drawn by a generator seeded by `seed` and the clip's name."""
    captions, content_caps = [], []
    for m in motions:
        rng = np.random.default_rng(clip_seed(seed, m.name))
        captions.append(m.captions[rng.integers(len(m.captions))] if m.captions else m.name)
        cc = content_captions(m) if labelled else []
        content_caps.append(cc[rng.integers(len(cc))] if cc else captions[-1])
    return captions, content_caps


def _dataset_of(checkpoint: str | Path) -> str:
    from ..model.config import LavimoConfig
    return LavimoConfig.load(Path(checkpoint) / "config.json").train.dataset
