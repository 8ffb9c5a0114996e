"""`run_demo`: the whole job for a new user, step by step with what is happening and how long it may take."""

from __future__ import annotations

import datetime
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import steps

# How long training from scratch takes (see lavimo_core.model.config.preset), for the message before it starts.
TRAINING_TIME = {"default": "up to ~15 min on 2 CPU cores", "tiny": "1-2 min", "bimodal": "up to ~15 min on 2 CPU cores"}
STEPS = 5


class _Timings(dict):
    @contextmanager
    def step(self, number: int, name: str, what: str):
        print(f"\n== Step {number}/{STEPS}: {what} " + "=" * max(3, 60 - len(what)), flush=True)
        entry = {"seconds": 0.0}
        self[name] = entry
        t0 = time.perf_counter()
        try:
            yield entry
        finally:
            entry["seconds"] = round(time.perf_counter() - t0, 2)
            print(f"-- step {number} done in {entry['seconds']:.1f} s" + (f" ({entry['note']})" if entry.get("note") else ""),
                  flush=True)


def run_demo(preset_name: str = "default", out: str | Path = "demo_out", *, allow_download: bool = True,
             progress: bool | None = None, library: str | None = None) -> dict:
    """Run the five demo steps, writing into `out`; returns the results (also saved as results.json/.md).

    `library`: the dataset spec to index (default: both Bandai-Namco datasets where present).
    """
    from ..cli.datasets import summary
    from ..cli.search import format_table

    progress = sys.stderr.isatty() if progress is None else progress
    out = Path(out).expanduser().resolve()
    timings = _Timings()
    t_all = time.perf_counter()

    with timings.step(1, "dataset", "the library's datasets (Bandai-Namco-Research-Motiondataset 1 and 2)") as t:
        root, downloaded = steps.find_or_download_dataset(allow_download=allow_download, progress=progress)
        spec = library or steps.library_spec()
        print(f"{'downloaded to' if downloaded else 'found at'} {root}; loading {spec} (converted once, then "
              "cached) ...", flush=True)
        dataset = steps.load_demo_dataset(spec, progress)
        print(summary(dataset), flush=True)
        t["note"] = "downloaded" if downloaded else "found locally"

    with timings.step(2, "model", f"the model (preset '{preset_name}')") as t:
        from ..model.config import preset
        from .shipped import shipped_model
        ckpt = (preset_name == "default" and shipped_model()) or steps.checkpoint_dir(preset(preset_name))
        if (ckpt / "checkpoint.json").is_file():
            print(f"reusing the trained model in {ckpt}", flush=True)
        else:
            print(f"no trained model for this code and data yet: training one now "
                  f"({TRAINING_TIME.get(preset_name, 'time depends on the preset')}). It is saved in\n{ckpt}\n"
                  "and reused by later runs. Ctrl-C stops; running the demo again resumes where it stopped.",
                  flush=True)
        ckpt, reused = steps.ensure_model(preset_name, progress=progress)
        from ..model.embedder import Embedder
        embedder = Embedder.from_checkpoint(ckpt)
        t["note"] = "reused" if reused else "trained"
        print(f"model {embedder.model_id}", flush=True)

    with timings.step(3, "store", "the searchable store of all clips") as t:
        store_path, reused = steps.ensure_store(embedder, ckpt, spec, progress=progress)
        from ..engine import Engine
        from ..store import Store
        store = Store.open(store_path, embedder)
        t["note"] = "reused" if reused else "built"
        print(f"{'reusing' if reused else 'built'} the store {store_path}: {len(store)} motions", flush=True)

    out.mkdir(parents=True, exist_ok=True)
    with Engine(embedder, store) as engine, \
            timings.step(4, "queries", f"{len(steps.TEXT_QUERIES)} text queries and a video query") as t:
        runs = steps.run_text_queries(engine)
        if embedder.has_video:
            source = steps.video_query_motion(dataset)
            print(f"rendering the video query from held-out test clip {source.name} (the model never trained on it) "
                  "...", flush=True)
            video = steps.render_query_video(source, out)
            runs.append(steps.run_video_query(engine, video, source.name))
        else:
            t["note"] = "no video query: this model was trained without video"
        for i, run in enumerate(runs, 1):
            steps.draw_query_picture(run, store, out, i)
            _print_run(i, run, format_table)

    blender, error = None, None
    apply_run = runs[steps.APPLY_QUERY]
    with timings.step(5, "blender", "apply the best hit in Blender and save demo.blend") as t:
        if apply_run.best is None:
            error = f"query {apply_run.query!r} has no hit to apply"
        else:
            print(f'applying {apply_run.best.name} (best hit of "{apply_run.query}") to a generated Mixamo-like '
                  "armature, in a separate Blender (bpy) process ...", flush=True)
            try:
                blender = steps.apply_in_blender(store_path, apply_run.best.motion_id, out)
                blender.update(query_index=steps.APPLY_QUERY + 1, query=apply_run.query)
                print(blender["summary"], flush=True)
            except steps.DemoError as exc:
                error = str(exc)
        if error:
            blender = {"error": error}
            t["note"] = "failed"

    info = {"created": datetime.datetime.now().replace(microsecond=0).isoformat(), "preset": preset_name,
            "out": str(out),
            "dataset": {"name": dataset.name, "path": str(root), "clips": len(dataset), "license": dataset.license,
                        "attribution": dataset.attribution, "downloaded": downloaded},
            "model": {"path": str(ckpt), "model_id": embedder.model_id, "weights_sha256": embedder.weights_hash},
            "store": {"path": str(store_path), "motions": len(store)}}
    timings["total"] = {"seconds": round(time.perf_counter() - t_all, 2)}
    from .results import results_dict, write_results
    data = results_dict(info, runs, blender, dict(timings))
    json_path, md_path = write_results(data, out)
    _print_outputs(out, runs, blender, ckpt, store_path, md_path, json_path, timings["total"]["seconds"])
    if error:
        raise steps.DemoError(f"the demo ran, but Blender step 5 failed: {error}")
    return data


def _print_run(i: int, run, format_table) -> None:
    head = f'"{run.query}"' if run.kind == "text" else f"{run.query} (rendered from {run.source_motion})"
    print(f"\nQuery {i} ({run.kind}): {head}   [{run.result.seconds:.2f} s]")
    print(format_table(run.result))
    if run.kind == "video":
        where = f"rank {run.source_rank}" if run.source_rank else "not in the top 10"
        print(f"the clip the video was rendered from is {where}")
    p = run.result.library_probability
    if p is not None:  # None for models calibrated before P(library has a match) existed
        print(f"P(library has a match): {p:.0%}")
    if run.result.no_match:
        print("=> No good match: no result reaches the model's no-match threshold, so the library probably has "
              "nothing like this; the nearest motions are listed anyway.")
    for note in run.result.notices:
        print(f"note: {note}")
    print(f"picture: {run.picture}", flush=True)


def _print_outputs(out: Path, runs, blender, ckpt: Path, store_path: Path, md: Path, js: Path, seconds: float) -> None:
    print(f"\n== Done in {seconds:.0f} s. Outputs in {out}:")
    print(f"  {md.name}, {js.name}   ranked results of every query")
    for run in runs:
        print(f"  {run.picture.name}   best hit next to its query")
    if any(run.kind == "video" for run in runs):
        print("  query_video.mp4   the video query")
    if blender and not blender.get("error"):
        print(f"  demo.blend   open in Blender: armature {blender['armature']} with action {blender['action']} "
              "(press Space to play)")
    print(f"To search your own prompts: lavimo search \"a person jumps\" --store {store_path}")
    print(f"Add-on preferences: model folder {ckpt}, store folder {store_path}")
    print("Data and model: CC BY-NC 4.0 (Bandai Namco Research Inc.): non-commercial use only, with attribution.",
          flush=True)
