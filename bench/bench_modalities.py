"""Tri-modal vs bi-modal on the larger data: does training with video as the intermediary help text retrieval?

Issue 14 (f) asks for it on Bandai-1 + Bandai-2, where the generalization bench's (f) compares models trained on
Bandai-1 alone. Here both models are the shipped recipe (tools/make_model.py) on Bandai-1 + the Bandai-2 dev
clips; the bi-modal one has no video encoder and no fusion. Seed 0's tri-modal model is the shipped
models/default (that recipe with seed 0); the others are trained once and cached (bench/generalization_models.py).
Queries are text only (a bi-modal model cannot take video): the frozen free captions on each dataset's test
split and the left/right pairs (bench/generalization_queries.json), and Bandai-1's template captions with style
(the in-distribution text figure issue 14 may not lower); per seed and, per query, averaged over the seeds, with
paired bootstrap 95% intervals over queries.

Run: `.venv/bin/python bench/run_all.py modalities`. `run(quick=True, pairs=...)` measures a few queries with
given checkpoints (tests/bench/test_modalities.py keeps it working).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import bench_generalization as gen
import numpy as np

TITLE = "Tri-modal vs bi-modal on Bandai-1 + Bandai-2 (issue 14 f)"
DATASET = f"{gen.SPECS[gen.B1]}+{gen.SPECS[gen.B2]}"
SEEDS = (0, 1)


def default_pairs() -> dict[int, tuple[Path | None, Path | None]]:
    """seed -> (tri-modal, bi-modal) checkpoint folders on the larger data; None where not trained for this run
    (LAVIMO_BENCH_GEN_TRAINED_ONLY=1 trains nothing)."""
    from generalization_models import RECIPE, trained_model

    from lavimo_core.demo.shipped import shipped_model
    train = os.environ.get("LAVIMO_BENCH_GEN_TRAINED_ONLY") != "1"
    pairs = {}
    for seed in SEEDS:
        tri = shipped_model() if seed == 0 else trained_model(RECIPE, DATASET, seed=seed, train_missing=train)
        pairs[seed] = (tri, trained_model(RECIPE, DATASET, bimodal=True, seed=seed, train_missing=train))
    return pairs


def template_queries(motions: list, quick: bool) -> tuple[list[str], np.ndarray]:
    """The in-distribution text queries `lavimo eval` asks on a test split (one template caption per clip, seed 0),
    and per query the clips with its content and style (its own clip always)."""
    from lavimo_core.eval.protocols import LABEL_LEVELS, label_relevance
    from lavimo_core.eval.run import query_captions
    labels = [dict(m.labels) for m in motions]
    rel = label_relevance(labels, labels, LABEL_LEVELS["content+style"]) | np.eye(len(motions), dtype=bool)
    n = 6 if quick else len(motions)
    return query_captions(motions)[0][:n], rel[:n]


def run(quick: bool = False, pairs: dict[int, tuple[Path | None, Path | None]] | None = None) -> str:
    """Measure both models of every seed that has both, and return the markdown section."""
    from lavimo_core.data import load_dataset
    from lavimo_core.model.embedder import Embedder

    started = time.perf_counter()
    q = gen.load_queries()
    pairs = default_pairs() if pairs is None else pairs
    measured = {s: (Embedder.from_checkpoint(t), Embedder.from_checkpoint(b))
                for s, (t, b) in pairs.items() if t is not None and b is not None}
    libs = {f"{name}-test": gen._library([(name, load_dataset(gen.SPECS[name]).split("test"))])
            for name in (gen.B1, gen.B2)}
    per_set: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for tri, bi in measured.values():
        for gallery in (gen.B2, gen.B1):
            lib = libs[f"{gallery}-test"]
            caps, rel = gen.free_caption_queries(lib, q, quick)
            hits = [gen.top1_hits(e.embed_text(caps) @ lib.embeddings(e).T, rel) for e in (tri, bi)]
            per_set.setdefault(f"free captions, {gallery} test", []).append(tuple(hits))
        per_set.setdefault("left/right pairs, side right per query (both test splits)", []).append(
            tuple(np.concatenate([h[0] for h in gen.left_right_hits(e, libs, q, quick).values()]) for e in (tri, bi)))
        lib = libs[f"{gen.B1}-test"]
        caps, rel = template_queries(lib.motions, quick)
        per_set.setdefault("template captions, content+style, bandai-namco-1 test (in distribution)", []).append(
            tuple(gen.top1_hits(e.embed_text(caps) @ lib.embeddings(e).T, rel) for e in (tri, bi)))
    lines = [f"Both models: the shipped recipe on {DATASET} (train takes; each dataset's val/test takes held out), "
             f"bi-modal without video encoder and fusion. Query file sha256 {gen.queries_sha256()[:16]}"
             + (" (QUICK mode: a few queries, not a measurement)" if quick else "") + ". Models: "
             + "; ".join(f"seed {s}: tri-modal {_name(t)}, bi-modal {_name(b)}" for s, (t, b) in pairs.items())
             + ". Figures in %, 95% intervals: bootstrap over queries.", "", *gen.TRI_BI_HEADER]
    if not measured:
        lines.append("| all | | not measured: no seed has both models trained for this run | | |")
    for what, runs in per_set.items():
        lines += gen.tri_bi_rows(what, list(measured), runs)
    lines += ["", f"Measured in {(time.perf_counter() - started) / 60:.1f} min (models trained beforehand or cached)."]
    return "\n".join(lines)


def _name(path: Path | None) -> str:
    """A model's folder name and the step early stopping kept (runs of one recipe stop at very different steps)."""
    if path is None:
        return "(not trained for this run)"
    from lavimo_core.model.checkpoint import read_json
    t = read_json(path / "checkpoint.json").get("training", {})
    steps = f" (best step {t['best_step']} of {t['step']})" if "best_step" in t and "step" in t else ""
    return ("models/default" if path.name == "default" else path.name) + steps
