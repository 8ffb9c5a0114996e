"""Generalization: retrieval on data, words and pictures the model never trained on, beside in-distribution figures.

(a) train without one dataset, test on it: Bandai-1 <-> Bandai-2 on the actions they share, queried with the
    frozen free English captions (bench/generalization_queries.json, written once, never tuned);
(b) left/right query pairs (performer's side): does the right side rank first;
(c) video of Bandai clips filmed by a second renderer training never used (Blender Workbench, a cylinder
    body and a tracking camera; bench/workbench_render.py), beside the same clips through the training renderer;
(d) real-video-dev camera clips (measured only: never trained on, never copied);
(e) "no good match" on actions the library lacks (text and video), and false alarms on ones it holds;
(f) tri-modal vs bi-modal (same preset and data; seeds 0 and 1), with bootstrap 95% intervals over queries; here
    on Bandai-1, and on Bandai-1 + Bandai-2 in its own section (bench_modalities.py).

Run: `.venv/bin/python bench/run_all.py generalization`. Models: $LAVIMO_BENCH_GEN_PRESET (default `recipe`: the
shipped model's recipe from tools/make_model.py with only the dataset changed; or a config preset name)
trained on Bandai-1, on Bandai-2 dev, and bi-modal on Bandai-1 (that pair also with seed 1), cached in
$LAVIMO_CACHE/bench-models (bench/generalization_models.py trains them ahead); when `make model` has committed
an intact models/default, (b)-(e) measure it too. `run(quick=True, models=...)` measures a few queries per part
with given checkpoints (tests/bench/test_generalization.py keeps it working).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TITLE = "Generalization: other datasets, free words, left/right, a second renderer, real video, no-match"
BENCH = Path(__file__).resolve().parent
QUERIES_FILE = BENCH / "generalization_queries.json"
B1, B2 = "bandai-namco-1", "bandai-namco-2"
SPECS = {B1: "bandai-namco-1", B2: "bandai-namco-2-dev"}
BOOTSTRAP = 2000
TARGETS = {"cross_t2m": 0.85, "left_right": 0.9, "renderer_v2m": 0.7, "real_v2m": 0.6, "absent_flagged": 0.8,
           "present_flagged": 0.15}


@dataclass
class Models:
    """Checkpoint folders: tri-modal on Bandai-1 and on Bandai-2, bi-modal on Bandai-1; `preset` for the record;
    (f) also compares the Bandai-1 pair trained with seed 1. None: not trained for this run (its rows say so)."""

    on_b1: Path
    on_b2: Path | None
    bimodal_b1: Path | None
    preset: str
    on_b1_seed1: Path | None = None
    bimodal_b1_seed1: Path | None = None


MODEL_ROLES = ("on_b1", "on_b2", "bimodal_b1", "on_b1_seed1", "bimodal_b1_seed1")   # the checkpoint fields of Models


def load_queries() -> dict:
    """The frozen query material."""
    return json.loads(QUERIES_FILE.read_text())


def queries_sha256() -> str:
    """sha256 of the frozen query file, printed with the figures."""
    return hashlib.sha256(QUERIES_FILE.read_bytes()).hexdigest()


def bootstrap_interval(hits: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of per-query 0/1 hits, resampling queries."""
    hits = np.asarray(hits, dtype=float)
    if len(hits) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = hits[rng.integers(0, len(hits), (BOOTSTRAP, len(hits)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def paired_difference(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean of a - b over the same queries with its bootstrap 95% interval."""
    d = np.asarray(a, float) - np.asarray(b, float)
    lo, hi = bootstrap_interval(d, seed)
    return float(d.mean()), lo, hi


def _fmt(hits: np.ndarray) -> str:
    if len(hits) == 0:
        return "n/a"
    lo, hi = bootstrap_interval(hits)
    return f"{100 * np.mean(hits):.1f} [{100 * lo:.0f}-{100 * hi:.0f}] (n={len(hits)})"


def _met(value: float, target: float, below: bool = False) -> str:
    ok = value <= target if below else value >= target
    return "yes" if ok else "NO"


class Library:
    """Motions with content labels and their embeddings under one model (cached per model)."""

    def __init__(self, motions: list, dataset: list[str]):
        self.motions, self.dataset = motions, dataset
        self.contents = np.array([m.labels.get("content", "") for m in motions], dtype=object)
        self._emb: dict[str, np.ndarray] = {}

    def embeddings(self, embedder) -> np.ndarray:
        """(N, dim) motion embeddings under `embedder`."""
        if embedder.model_id not in self._emb:
            self._emb[embedder.model_id] = embedder.embed_motion(self.motions)
        return self._emb[embedder.model_id]

    def relevant(self, wanted: dict[str, list[str]]) -> np.ndarray:
        """(N,) bool: clip carries one of the contents wanted for its dataset."""
        return np.array([c in wanted.get(d, ()) for c, d in zip(self.contents, self.dataset, strict=True)])


def _library(parts: list[tuple[str, list]]) -> Library:
    return Library([m for _, ms in parts for m in ms], [name for name, ms in parts for _ in ms])


def free_caption_queries(lib: Library, q: dict, quick: bool) -> tuple[list[str], np.ndarray]:
    """The free captions of the actions `lib` holds (an action it lacks cannot be found), and per caption which of
    its clips show that action ((Q, N) bool)."""
    caps, rel = [], []
    for action, texts in q["free_captions"].items():
        r = lib.relevant(q["actions"][action])
        if r.any():
            texts = texts[:2] if quick else texts
            caps += texts
            rel += [r] * len(texts)
    return caps, np.array(rel)


def top1_hits(sim: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Per query (rows of sim), whether its best clip is relevant (relevant: (Q, N) or (N,) for all)."""
    rel = np.broadcast_to(relevant, sim.shape)
    return rel[np.arange(len(sim)), sim.argmax(axis=1)]


# ----------------------------------------------------------------------------------------------- parts
SHIPPED_LABEL = "shipped default (models/default: Bandai-1 + Bandai-2 train splits)"


def _roles(emb: dict, *roles: tuple[str, str]) -> list[tuple[str, str]]:
    """The given (role, label) pairs whose model this run has, plus the shipped default model when one is committed
    and intact."""
    return [r for r in roles if r[0] in emb] + ([("shipped", SHIPPED_LABEL)] if "shipped" in emb else [])


def cross_dataset(emb: dict, libs: dict, q: dict, quick: bool) -> tuple[list[str], dict]:
    """(a) free captions on each dataset's test split, by the model trained on it and by the one that was not."""
    shipped = "shipped" in emb
    lines = ["| gallery (test split) | queries | trained on the other dataset (cross) | trained on this dataset |"
             + (" shipped model (both datasets' train takes) |" if shipped else ""),
             "|---|---:|---:|---:|" + ("---:|" if shipped else "")]
    hits_all = {}
    for gallery, own, other in ((B2, "on_b2", "on_b1"), (B1, "on_b1", "on_b2")):
        lib = libs[f"{gallery}-test"]
        caps, rel = free_caption_queries(lib, q, quick)
        res = {}
        for role in (other, own) + (("shipped",) if shipped else ()):
            if role not in emb:
                res[role] = np.array([])      # not trained for this run
                continue
            sim = emb[role].embed_text(caps) @ lib.embeddings(emb[role]).T
            res[role] = top1_hits(sim, rel)
        hits_all[gallery] = res
        lines.append(f"| {gallery} ({len(lib.motions)} clips) | {len(caps)} | {_fmt(res[other])} | {_fmt(res[own])} |"
                     + (f" {_fmt(res['shipped'])} |" if shipped else ""))
    return lines, hits_all


def left_right(emb: dict, libs: dict, q: dict, quick: bool) -> tuple[list[str], dict]:
    """(b) for each pair, does each side's query put a clip of its own side above every clip of the other."""
    lines = ["| model | gallery | pairs | side right, per query | both sides right, per pair | content R@1 |",
             "|---|---|---:|---:|---:|---:|"]
    out = {}
    for role, label in _roles(emb, ("on_b1", "trained on Bandai-1"), ("on_b2", "trained on Bandai-2")):
        for gallery, (side_ok, pair_ok, content_ok) in left_right_hits(emb[role], libs, q, quick).items():
            out[(role, gallery)] = side_ok
            lines.append(f"| {label} | {gallery} test | {len(pair_ok)} | {_fmt(side_ok)} | "
                         f"{_fmt(pair_ok)} | {_fmt(content_ok)} |")
    return lines, out


def left_right_hits(embedder, libs: dict, q: dict, quick: bool) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per gallery with pairs: (side right per query, both sides right per pair, content right per query)."""
    out = {}
    for gallery in (B2, B1):
        pairs = [p for p in q["left_right_pairs"] if p["dataset"] == gallery][: 2 if quick else None]
        lib = libs[f"{gallery}-test"]
        if not pairs:
            continue
        motion = lib.embeddings(embedder)
        side_ok, pair_ok, content_ok = [], [], []
        for p in pairs:
            mask = {s: np.isin(lib.contents, p["contents"][s]) for s in ("left", "right")}
            if not (mask["left"].any() and mask["right"].any()):
                continue
            sims = embedder.embed_text([p["left"], p["right"]]) @ motion.T
            ok = []
            for s_i, s in enumerate(("left", "right")):
                other = "right" if s == "left" else "left"
                ok.append(sims[s_i][mask[s]].max() > sims[s_i][mask[other]].max())
                content_ok.append(bool(mask[s][sims[s_i].argmax()]))
            side_ok += ok
            pair_ok.append(all(ok))
        out[gallery] = (np.array(side_ok), np.array(pair_ok), np.array(content_ok))
    return out


def _crop(joints: np.ndarray, seconds: float = 6.0) -> np.ndarray:
    """The middle `seconds` of a clip (20 fps): query videos are short, like a user's."""
    n = int(seconds * 20) + 1
    start = max(0, (len(joints) - n) // 2)
    return joints[start:start + n]


def second_renderer(emb: dict, libs: dict, quick: bool) -> tuple[list[str], dict]:
    """(c) video->motion, content R@1: Workbench videos vs the training renderer's, same clips, same gallery."""
    from workbench_render import render_videos

    from lavimo_core.eval.video_queries import rendered_video_file
    from lavimo_core.motion.motion import Motion
    from lavimo_core.paths import cache_dir

    lib = libs[f"{B2}-test"]
    per_content = 1 if quick else 2
    picked, seen = [], {}
    for i, c in enumerate(lib.contents):
        if seen.get(c, 0) < per_content:
            seen[c] = seen.get(c, 0) + 1
            picked.append(i)
    if quick:
        picked = picked[:2]
    clips = [Motion(lib.motions[i].name, _crop(lib.motions[i].joints)) for i in picked]
    folder = cache_dir("bench-videos", "workbench-v1")
    workbench = [_features(p) for p in render_videos([(m.name, m.joints) for m in clips], folder,
                                                     fps=10.0 if quick else 15.0, size=320)]
    training = [_features(rendered_video_file(m, seed=0, fps=15.0)) for m in clips]
    relevant = np.array([lib.contents == lib.contents[i] for i in picked])
    lines = ["| model | queries | Workbench (never trained on) | training renderer (same clips) | "
             "person found in frames: Workbench / training renderer |", "|---|---:|---:|---:|---:|"]
    out = {}
    found = [np.mean([v.detection_rate if v else 0.0 for v in vids]) for vids in (workbench, training)]
    for role, label in _roles(emb, ("on_b1", "trained on Bandai-1 (cross-dataset too)"),
                              ("on_b2", "trained on Bandai-2")):
        motion = lib.embeddings(emb[role])
        wb, tr = (_video_hits(emb[role], vids, motion, relevant) for vids in (workbench, training))
        out[role] = (wb, tr)
        lines.append(f"| {label} | {len(picked)} | {_fmt(wb)} | {_fmt(tr)} | {100 * found[0]:.0f}% / "
                     f"{100 * found[1]:.0f}% |")
    lost = [clips[i].name for i, v in enumerate(workbench) if v is None]
    if lost:
        lines += ["", f"MediaPipe found no person in any frame of {len(lost)} Workbench video(s) (counted as "
                  "misses): " + ", ".join(lost) + "."]
    return lines, out


def _features(path):
    """Pose features of a video file, or None when no person is found in it (a miss, not a crash)."""
    from lavimo_core.video.errors import VideoError
    from lavimo_core.video.features import video_to_features
    try:
        return video_to_features(path)
    except VideoError:
        return None


def _video_hits(embedder, videos: list, motion: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Top-1 hits of video queries; a video without a person is a miss."""
    hits = np.zeros(len(videos), dtype=bool)
    found = [i for i, v in enumerate(videos) if v is not None]
    if found:
        hits[found] = top1_hits(embedder.embed_video([videos[i] for i in found]) @ motion.T, relevant[found])
    return hits


def real_videos(emb: dict, library: Library, q: dict, quick: bool) -> tuple[list[str], dict]:
    """(d) real-video-dev: content R@1 over clips whose action the library holds; (e) video no-match."""
    from lavimo_core.paths import find_dataset
    from lavimo_core.video.errors import VideoError
    from lavimo_core.video.features import video_to_features

    root = find_dataset("real-video-dev")
    rows = list(csv.DictReader((root / "manifest.csv").open()))
    if quick:
        rows = [r for r in rows if r["res"] == "64x64"][:1]
    feats, actions, failed = [], [], []
    for r in rows:
        try:
            feats.append(video_to_features(root / r["file"]))
            actions.append(r["action"])
        except VideoError as exc:
            failed.append(f"{r['file']}: {type(exc).__name__}")
    out, lines = {}, ["| model | clips with a held action | R@1 | absent-action clips flagged | held-action clips flagged |",
                      "|---|---:|---:|---:|---:|"]
    for role, label in _roles(emb, ("on_b1", "trained on Bandai-1"), ("on_b2", "trained on Bandai-2")):
        e = emb[role]
        motion = library.embeddings(e)
        sim = e.embed_video(feats) @ motion.T if feats else np.zeros((0, len(library.motions)))
        wanted = [q["real_video_actions"].get(a, []) for a in actions]
        rel = np.array([np.isin(library.contents, w) for w in wanted]) if feats else np.zeros((0, 0), bool)
        held = np.array([bool(w) for w in wanted], dtype=bool)
        hits = top1_hits(sim[held], rel[held]) if held.any() else np.array([])
        threshold = e.calibration.no_match_below.get("video", -1.0)
        flagged = sim.max(axis=1) < threshold if len(sim) else np.array([], bool)
        out[role] = {"hits": hits, "absent_flagged": flagged[~held], "present_flagged": flagged[held],
                     "per_clip": [(a, bool(h)) for a, h in zip([a for a, k in zip(actions, held, strict=True) if k],
                                                               hits, strict=True)]}
        lines.append(f"| {label} | {int(held.sum())} | {_fmt(hits)} | "
                     f"{_fmt(flagged[~held])} | {_fmt(flagged[held])} |")
    if failed:
        lines.append("")
        lines.append("No person found (counted as misses nowhere, listed here): " + "; ".join(failed))
    return lines, out


def _text_flagged(e, texts: list[str], motion: np.ndarray, threshold: float) -> np.ndarray:
    """The product's rule (store/search.py): best hit below the threshold, or wording the model never learned."""
    q = e.embed_text(texts)
    return ((q @ motion.T).max(axis=1) < threshold) | ~np.array([e.calibration.knows_wording(x) for x in q], bool)


def no_match_text(emb: dict, libs: dict, library: Library, q: dict, quick: bool) -> tuple[list[str], dict]:
    """(e) text: unknown actions vs the whole library; actions missing from Bandai-2 vs a Bandai-2 library. Flagged
    as the product flags: the best hit below the no-match threshold, or wording unlike any training caption."""
    unknown = q["absent_text"]["unknown_actions"][: 3 if quick else None]
    missing = [t for ts in q["absent_text"]["missing_from_bandai-namco-2"].values() for t in ts][: 3 if quick else None]
    present = [t for ts in q["free_captions"].values() for t in (ts[:1] if quick else ts)]
    lines = ["| model | library | absent queries flagged | present queries flagged |", "|---|---|---:|---:|"]
    out = {}
    for role, label in _roles(emb, ("on_b1", "trained on Bandai-1"), ("on_b2", "trained on Bandai-2")):
        e = emb[role]
        t = e.calibration.no_match_below.get("text", -1.0)
        for name, lib, absent in (("Bandai-1 all + Bandai-2 test", library, unknown),
                                  ("Bandai-2 test (lacks bow, punch, kick, ...)", libs[f"{B2}-test"], missing)):
            motion = lib.embeddings(e)
            flag_a, flag_p = _text_flagged(e, absent, motion, t), _text_flagged(e, present, motion, t)
            out[(role, name)] = (flag_a, flag_p)
            lines.append(f"| {label} | {name} | {_fmt(flag_a)} | {_fmt(flag_p)} |")
    return lines, out


def tri_vs_bi(emb: dict, libs: dict, q: dict, quick: bool) -> tuple[list[str], dict]:
    """(f) text->motion R@1 of the tri-modal and bi-modal models trained alike, on the same queries, per seed
    and averaged over the seeds (one seed's free-caption R@1 on ~50 queries moves by up to 18 points)."""
    lines = list(TRI_BI_HEADER)
    seeds = [(s, tri, bi) for s, tri, bi in ((0, "on_b1", "bimodal_b1"), (1, "on_b1_seed1", "bimodal_b1_seed1"))
             if tri in emb and bi in emb]
    out = {}
    for gallery, what in ((B2, "free captions, Bandai-2 test (cross-dataset)"),
                          (B1, "free captions, Bandai-1 test (in-dataset)")):
        lib = libs[f"{gallery}-test"]
        caps, rel = free_caption_queries(lib, q, quick)
        if not seeds:
            lines.append(f"| {what} | | not measured: the bi-modal model was not trained for this run | | |")
            continue
        per_seed = [tuple(top1_hits(emb[r].embed_text(caps) @ lib.embeddings(emb[r]).T, rel) for r in (tri, bi))
                    for _, tri, bi in seeds]
        lines += tri_bi_rows(what, [seed for seed, _, _ in seeds], per_seed)
        out[gallery] = per_seed
    return lines, out


TRI_BI_HEADER = ("| queries | seed | tri-modal R@1 | bi-modal R@1 | tri - bi (paired bootstrap 95%) |",
                 "|---|---|---:|---:|---:|")


def tri_bi_rows(what: str, seeds: list, runs: list[tuple[np.ndarray, np.ndarray]]) -> list[str]:
    """Table rows of one query set: per seed (tri-modal, bi-modal hits), and with several seeds their per-query mean
    (the share of seeds that found the query)."""
    rows = [_tri_bi_row(what, str(seed), tri, bi) for seed, (tri, bi) in zip(seeds, runs, strict=True)]
    if len(runs) > 1:
        rows.append(_tri_bi_row(what, f"mean of {len(runs)}", *(np.mean([r[k] for r in runs], axis=0) for k in (0, 1))))
    return rows


def _tri_bi_row(what: str, seed: str, tri: np.ndarray, bi: np.ndarray) -> str:
    d, lo, hi = paired_difference(tri, bi)
    return f"| {what} | {seed} | {_fmt(tri)} | {_fmt(bi)} | {100 * d:+.1f} [{100 * lo:+.0f}, {100 * hi:+.0f}] |"


def in_distribution(models: Models, emb: dict, quick: bool) -> list[str]:
    """Bandai-1's test split with its template captions and rendered videos (the figures issue 14 may not lower)."""
    from lavimo_core.demo.shipped import shipped_model
    from lavimo_core.eval.run import evaluate

    lines = ["| model | text->motion R@1 (content+style) | R@5 | video->motion R@1 (content+style) | R@5 |",
             "|---|---:|---:|---:|---:|"]
    for role, label, folder in (("on_b1", "trained on Bandai-1 (same recipe)", models.on_b1),
                                ("shipped", SHIPPED_LABEL, shipped_model() if "shipped" in emb else None)):
        if folder is None or quick:
            continue
        r, _ = evaluate(folder, "test", dataset=SPECS[B1], video=True, embedder=emb[role])
        t, v = r["t2m"]["b-content+style"], r["v2m"]["b-content+style"]
        lines.append(f"| {label} | {100 * t['R@1']:.1f} | {100 * t['R@5']:.1f} | {100 * v['R@1']:.1f} | "
                     f"{100 * v['R@5']:.1f} |")
    return lines


# ----------------------------------------------------------------------------------------------- run
def default_models(preset: str) -> Models:
    """Train (or reuse) the three models the bench compares; with LAVIMO_BENCH_GEN_TRAINED_ONLY=1, only those
    already trained (the hold-out model on Bandai-1 is required), for a run that has no hours to train."""
    from generalization_models import trained_model
    train = os.environ.get("LAVIMO_BENCH_GEN_TRAINED_ONLY") != "1"
    return Models(trained_model(preset, SPECS[B1]), trained_model(preset, SPECS[B2], train_missing=train),
                  trained_model(preset, SPECS[B1], bimodal=True, train_missing=train), preset,
                  trained_model(preset, SPECS[B1], seed=1, train_missing=train),
                  trained_model(preset, SPECS[B1], bimodal=True, seed=1, train_missing=train))


def run(quick: bool = False, models: Models | None = None) -> str:
    """Measure every part and return the markdown section."""
    from lavimo_core.data import load_dataset
    from lavimo_core.model.embedder import Embedder

    started = time.perf_counter()
    q = load_queries()
    models = models or default_models(os.environ.get("LAVIMO_BENCH_GEN_PRESET", "recipe"))
    emb = {role: Embedder.from_checkpoint(getattr(models, role)) for role in MODEL_ROLES
           if getattr(models, role) is not None}
    if not quick:
        from lavimo_core.demo.shipped import shipped_model
        if (shipped := shipped_model()) is not None:     # (b)-(e) also measure it: its test splits are held out
            emb["shipped"] = Embedder.from_checkpoint(shipped)
    data = {B1: load_dataset(SPECS[B1]), B2: load_dataset(SPECS[B2])}
    libs = {f"{name}-test": _library([(name, ds.split("test"))]) for name, ds in data.items()}
    if quick:     # a few clips per content keep the quick run short
        for key, lib in libs.items():
            keep, seen = [], {}
            for i, c in enumerate(lib.contents):
                if seen.get(c, 0) < 2:
                    seen[c] = seen.get(c, 0) + 1
                    keep.append(i)
            libs[key] = Library([lib.motions[i] for i in keep], [lib.dataset[i] for i in keep])
    library = _library([(B1, data[B1].motions if not quick else libs[f"{B1}-test"].motions),
                        (B2, libs[f"{B2}-test"].motions)])

    parts = {}
    a_lines, parts["a"] = cross_dataset(emb, libs, q, quick)
    b_lines, parts["b"] = left_right(emb, libs, q, quick)
    c_lines, parts["c"] = second_renderer(emb, libs, quick)
    d_lines, parts["d"] = real_videos(emb, library, q, quick)
    e_lines, parts["e"] = no_match_text(emb, libs, library, q, quick)
    f_lines, parts["f"] = tri_vs_bi(emb, libs, q, quick)

    def figures(role: str) -> list[np.ndarray]:
        """The six summary figures' per-query hits for one model (cross-dataset: the hold-out models)."""
        cross = (np.concatenate([parts["a"][B2]["on_b1"], parts["a"][B1]["on_b2"]]) if role == "on_b1" else
                 np.concatenate([parts["a"][B2][role], parts["a"][B1][role]]))
        real = parts["d"][role]
        text_absent = np.concatenate([v[0] for k, v in parts["e"].items() if k[0] == role])
        text_present = np.concatenate([v[1] for k, v in parts["e"].items() if k[0] == role])
        return [cross, parts["b"].get((role, B2), np.array([])), parts["c"][role][0], real["hits"],
                np.concatenate([text_absent, real["absent_flagged"]]),
                np.concatenate([text_present, real["present_flagged"]])]

    mean = lambda x: float(np.mean(x)) if len(x) else float("nan")   # noqa: E731
    rows = [("text->motion, free captions, content R@1 (hold-out column: the model never saw that dataset, both "
             "directions)", TARGETS["cross_t2m"], False),
            ("left/right pairs, side right per query (Bandai-2 test)", TARGETS["left_right"], False),
            ("second renderer (Workbench) video->motion content R@1", TARGETS["renderer_v2m"], False),
            ("real-video-dev R@1 over clips whose action the library holds", TARGETS["real_v2m"], False),
            ("no good match: absent-action queries flagged (text + video)", TARGETS["absent_flagged"], False),
            ("no good match: present-action queries flagged (text + video)", TARGETS["present_flagged"], True)]
    columns = [figures("on_b1")] + ([figures("shipped")] if "shipped" in emb else [])
    out = [f"Preset **{models.preset}**{' (QUICK mode: a few queries per part, not a measurement)' if quick else ''}; "
           f"query file v{q['version']} sha256 {queries_sha256()[:16]}; 95% intervals: bootstrap over queries "
           f"({BOOTSTRAP} resamples). Models: "
           + ", ".join(f"{role} {path.name if (path := getattr(models, role)) else '(not trained for this run)'}"
                       for role in MODEL_ROLES)
           + (", and the shipped models/default" if len(columns) > 1 else "")
           + ". Test splits are held out of every model's training. Figures in %.", "",
           "| target (issue 14) | hold-out models (trained on Bandai-1 only; first row: both, each on the dataset "
           "it never saw) | met |"
           + (" shipped model (Bandai-1 + Bandai-2 train takes) | met |" if len(columns) > 1 else "") + " target |",
           "|---|---:|---|" + ("---:|---|" if len(columns) > 1 else "") + "---:|"]
    for i, (text, target, below) in enumerate(rows):
        cells = "".join(f" {_fmt(c[i])} | {_met(mean(c[i]), target, below) if len(c[i]) else 'n/a'} |"
                        for c in columns)
        out.append(f"| {text} |{cells} {'<=' if below else '>='} {100 * target:.0f} |")
    out += ["", "**(a) Train without one dataset, test on it** (free captions; a hit = the top clip shows the "
            "query's action; run = run or dash in Bandai-1):", ""] + a_lines
    out += ["", "**(b) Left/right pairs** (performer's side; 'side right' = the best clip of the query's side "
            "outranks every clip of the other side):", ""] + b_lines
    out += ["", "**(c) A second renderer** (Blender Workbench, cylinder body, tracking camera, never used in "
            "training; the middle 6 s of Bandai-2 test clips, 2 per content; gallery: Bandai-2 test):", ""] + c_lines
    out += ["", "**(d) real-video-dev** (16 real clips; library: all of Bandai-1 + Bandai-2 test; measured, never "
            "trained on):", ""] + d_lines
    for role in ("on_b1",):
        per = ", ".join(f"{a} {'hit' if h else 'miss'}" for a, h in parts["d"][role]["per_clip"])
        out += ["", f"Per clip (trained on Bandai-1): {per}."]
    out += ["", "**(e) No good match, text** (flagged as the product flags: top-1 cosine below the model's calibrated "
            "no-match threshold, or, for models with a wording bank, wording unlike every training caption; present = "
            "the free captions):", ""] + e_lines
    out += ["", "**(f) Tri-modal vs bi-modal** (both trained on Bandai-1 with the same preset, per seed; 'mean': "
            "per query, the share of seeds that found it; on Bandai-1 + Bandai-2: the modalities section):", ""] + f_lines
    out += ["", "**In distribution** (Bandai-1 test, 23 clips: template captions; rendered videos through decode -> "
            "MediaPipe; issue 14: may not fall below 87% / 70%):", ""] + in_distribution(models, emb, quick)
    out += ["", f"Measured in {(time.perf_counter() - started) / 60:.1f} min (models trained beforehand or cached)."]
    return "\n".join(out)
