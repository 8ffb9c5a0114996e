"""Moment search inside long takes: moment R@1 / mean IoU on spliced real takes, speed over 10 h of takes, preview.

Quality: 20 long takes spliced from real Bandai clips (lavimo_core/eval/spliced.py: walk, run, wave both
hands, raise both hands from Bandai-Namco-2 dev, bow from Bandai-Namco-1 val/test; 4 actions per take,
0.5 s cross-fades, the truth of every segment known), seed 0 (the merge margin was chosen on seed 1).
Every segment's query is asked (a) of its own take and (b) of all 20 takes; R@1 = the top hit's range
overlaps the queried segment with temporal IoU >= 0.5. Baseline, same run: today's whole-take search, whose
hit is the whole take. Also through the real Store: the 20 takes indexed (format 2, windows) vs the same
takes in a store without windows (what a format 1 store does).
Speed: a text query over 1,000 long takes of ~37 s (~10 h): 40 real spliced takes of 5 actions are
embedded window by window with the model, then repeated 25 times with small noise on every embedding
(re-normalised; cosine ~0.98 to the original, below the 0.99 near-duplicate fold) so the scan sees
realistic, distinct values. Timed: `search.search` over the store's in-memory rows (what Store.search
runs), and text encoding + search. Baseline: the same takes searched whole (one row each).
Preview: `lavimo_blender.search.preview.start` of a 3 s moment on a Mixamo-named rig in the bpy module.
A look at real sessions: the 8 CMU martial-arts takes (cmu-acrnn, no time labels) indexed, and what the
top moments are for a few queries (no truth to score them by: for reading, not a figure).
Model: $LAVIMO_MODEL, else the one bench_store.py uses.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import time
from pathlib import Path

import numpy as np

TITLE = "Moment search inside long takes (issue 19)"
N_TAKES = 1000
REAL_TAKES = 40


def _checkpoint() -> Path:
    if os.environ.get("LAVIMO_MODEL"):
        return Path(os.environ["LAVIMO_MODEL"])
    spec = importlib.util.spec_from_file_location("bench_store", Path(__file__).with_name("bench_store.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._checkpoint()


def _ms(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return 1000 * statistics.median(s), 1000 * s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def _quality(embedder, takes) -> list[str]:
    from lavimo_core.eval.moments import evaluate_moments

    res = evaluate_moments(embedder, takes)
    n = res["within take"]["whole"]["n"]
    lines = [f"**Moment R@1 (IoU >= 0.5) on {len(takes)} spliced takes, {n} queries** (every action >= 2 s; "
             "target R@1 >= 0.8):", "",
             "| task | whole take (today) | windows + merge (shipped) | + span refinement |", "|---|---|---|---|"]
    for task, by in res.items():
        cells = [f"R@1 {by[m]['R@1 IoU>=0.5']:.2f}, mIoU {by[m]['mIoU']:.2f}" for m in ("whole", "windows", "refined")]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return lines


def _store_quality(embedder, takes, tmp: Path) -> list[str]:
    from lavimo_core.store import Store
    from lavimo_core.store import format as fmt
    from lavimo_core.store.moments import temporal_iou

    motions = [t.motion for t in takes]
    with_windows = Store.create(tmp / "windows", embedder)
    with_windows.add(motions)
    whole = Store.create(tmp / "whole", fmt.ModelIdentity.of(embedder))  # no checkpoint: no windows
    whole.add(motions, embeddings=with_windows.rows().emb, mirror_embeddings=with_windows.rows().mirror)
    by_name = {t.motion.name: t for t in takes}
    out = {}
    for label, store in (("format 1 (whole takes)", whole), ("format 2 (windows)", with_windows)):
        ious = []
        for t in takes:
            for g in t.segments:
                h = store.search(embedder.embed_text([g.query])[0], "text", k=1)[0]
                truth = [(s.start, s.end) for s in by_name[h.motion_id].segments if s.content == g.content]
                ious.append(max((temporal_iou((h.start, h.end), x) for x in truth), default=0.0))
        a = np.array(ious)
        out[label] = f"R@1 {(a >= 0.5).mean():.2f}, mIoU {a.mean():.2f}"
    return ["", f"Through `Store.search` (top-1 of all {len(takes)} takes, folding on): "
            + "; ".join(f"{k}: {v}" for k, v in out.items()) + "."]


def _speed(embedder, clips) -> list[str]:
    from lavimo_core.eval.spliced import spliced_set
    from lavimo_core.store.encode import encode_windows
    from lavimo_core.store.format import ModelIdentity
    from lavimo_core.store.moments import model_window_lengths
    from lavimo_core.store.records import MotionRecord
    from lavimo_core.store.search import QueryPart, Rows, Windows, search
    from lavimo_core.store.windows_file import WINDOW_DTYPE

    lengths = model_window_lengths(embedder)
    real = spliced_set(clips, takes=REAL_TAKES, per_take=5, min_seconds=6.0, seed=7)  # ~37 s each
    motions = [t.motion for t in real]
    w_emb, w_owner, w_span = encode_windows(embedder, motions, lengths)
    whole = embedder.embed_motion(motions)
    rng = np.random.default_rng(0)

    def noisy(x: np.ndarray) -> np.ndarray:
        y = x + rng.normal(0, 0.2 / np.sqrt(x.shape[1]), x.shape).astype(np.float32)
        return (y / np.linalg.norm(y, axis=1, keepdims=True)).astype(np.float32)

    copies = N_TAKES // REAL_TAKES
    records, embs, wins, owners, spans = [], [], [], [], []
    for c in range(copies):
        for m in motions:
            records.append(MotionRecord.of(f"{m.name}~{c}", m, 0, 0))
        embs.append(noisy(whole))
        wins.append(noisy(w_emb))
        owners.append(w_owner + c * REAL_TAKES)
        spans.append(w_span)
    emb = np.concatenate(embs)
    windows = Windows(np.concatenate(wins).astype(WINDOW_DTYPE), np.concatenate(owners), np.concatenate(spans))
    rows = Rows(records, [""] * len(records), emb, noisy(emb), windows)
    flat = Rows(records, [""] * len(records), emb, rows.mirror)
    hours = sum(r.duration for r in records) / 3600
    model = ModelIdentity.of(embedder)
    prompts = [g.query for t in real[:5] for g in t.segments] * 3
    qs = embedder.embed_text(prompts)
    t_search = {}
    for label, r in (("windows", rows), ("whole", flat)):
        search(r, [QueryPart(qs[0])], model=model, k=10)  # warm
        samples = []
        for q in qs:
            t0 = time.perf_counter()
            search(r, [QueryPart(q)], model=model, k=10, calibration=embedder.calibration)
            samples.append(time.perf_counter() - t0)
        t_search[label] = _ms(samples)
    end_to_end = []
    for p in prompts:
        t0 = time.perf_counter()
        search(rows, [QueryPart(embedder.embed_text([p])[0])], model=model, k=10, calibration=embedder.calibration)
        end_to_end.append(time.perf_counter() - t0)
    e2e = _ms(end_to_end)
    ok = "PASS" if e2e[0] < 50 else "FAIL"
    return ["", f"**Speed**: {len(records)} long takes, {hours:.1f} h of motion, {len(rows.windows)} windows "
            f"(lengths {lengths} frames, stride a quarter of each) x {emb.shape[1]} {WINDOW_DTYPE} "
            f"({rows.windows.emb.nbytes / 2**20:.0f} MiB), whole-take rows float32.", "",
            f"| measure (p50 / p95 over {len(prompts)} queries) | result | baseline (same run) | target |",
            "|---|---|---|---|",
            f"| text query end to end (encode + folded top-10 with moments) | {e2e[0]:.1f} / {e2e[1]:.1f} ms | - | "
            f"p50 < 50 ms {ok} |",
            f"| folded top-10 search alone, with moments | {t_search['windows'][0]:.1f} / {t_search['windows'][1]:.1f}"
            f" ms | whole takes (one row each): {t_search['whole'][0]:.2f} / {t_search['whole'][1]:.2f} ms | - |"]


def _cmu_look(embedder, tmp: Path) -> list[str]:
    import tarfile

    from lavimo_core.cli.search import hit_label
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset
    from lavimo_core.store import Store

    with tarfile.open(find_dataset("cmu-acrnn") / "bvh.tar.xz", "r:xz") as tar:
        members = [m for m in tar.getmembers() if Path(m.name).name.startswith("martial_")]
        for m in members:
            (tmp / Path(m.name).name).write_bytes(tar.extractfile(m).read())
    motions = [load_motion(f) for f in sorted(tmp.glob("martial_*.bvh"))]
    store = Store.create(tmp / "store", embedder)
    store.add(motions)
    lines = ["", f"**A look at real sessions**: {len(motions)} CMU martial-arts takes "
             f"({sum(m.duration for m in motions) / 60:.1f} min, {store.info()['windows']} windows); top 3 per query:", "",
             "| query | top moments (cosine) |", "|---|---|"]
    for text in ("a person kicks high", "a person punches", "a person stands still", "a person walks"):
        hits = store.search(embedder.embed_text([text])[0], "text", k=3)
        lines.append(f"| {text} | " + "; ".join(f"{hit_label(h)} ({h.score:.2f})" for h in hits) + " |")
    return lines


def _preview(clips) -> list[str]:
    import bpy  # noqa: I001 (addon_utils exists only once bpy is imported)
    import addon_utils

    from lavimo_blender.apply.rig_builder import build_armature
    from lavimo_core.eval.spliced import spliced_set

    take = spliced_set(clips, takes=1, seed=3)[0].motion
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("lavimo_blender", default_set=True)
    try:
        from lavimo_blender.search import preview
        rig = build_armature("mixamo")
        bpy.context.view_layer.objects.active = rig
        samples = []
        for i in range(7):
            t0 = time.perf_counter()
            preview.start(bpy.context, rig, take, ("bench", i), (4.0, 7.0))
            samples.append(time.perf_counter() - t0)
            preview.stop(bpy.context)
        p50, p95 = _ms(samples[1:])
    finally:
        addon_utils.disable("lavimo_blender", default_set=True)
    ok = "PASS" if p50 < 100 else "FAIL"
    return ["", f"**Preview start** on the main thread (retarget a 3.0 s moment of a {take.duration:.0f} s take onto "
            f"a Mixamo-named rig, write the temporary action, set the preview range): p50 {p50:.0f} ms, p95 {p95:.0f} ms "
            f"(target < 100 ms {ok})."]


def run() -> str:
    """Run every measurement; return the markdown section."""
    import tempfile

    import torch

    from lavimo_core.eval.spliced import load_clips, spliced_set
    from lavimo_core.model.embedder import Embedder

    torch.set_num_threads(2)
    load_before = os.getloadavg()[0]
    ckpt = _checkpoint()
    embedder = Embedder.from_checkpoint(ckpt)
    clips = load_clips(per_content=12)
    takes = spliced_set(clips, takes=20, seed=0)
    lines = [f"Model: `{embedder.model_id}` ({ckpt.name}, dim {embedder.dim}); torch threads 2."]
    lines += [""] + _quality(embedder, takes)
    with tempfile.TemporaryDirectory() as tmp:
        lines += _store_quality(embedder, takes, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        lines += _cmu_look(embedder, Path(tmp))
    lines += _speed(embedder, clips)
    lines += _preview(clips)
    lines += ["", f"Machine load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
