"""The demo's results table: demo_out/results.json (everything, for tools) and results.md (for people)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def results_dict(info: dict, runs: list, blender: dict | None, timings: dict[str, dict]) -> dict:
    """JSON-ready results: setup (dataset, model, store), every query with its ranked hits, Blender, timings."""
    queries = []
    for run in runs:
        queries.append({"kind": run.kind, "query": run.query, **run.result.to_dict(),
                        "picture": run.picture.name if run.picture else None,
                        "source_motion": run.source_motion, "source_rank": run.source_rank})
    return {**info, "queries": queries, "blender": blender, "timings": timings}


def results_markdown(data: dict) -> str:
    """results.md: one section per query (picture + ranked table), the Blender scene, timings, license."""
    model, store, ds = data["model"], data["store"], data["dataset"]
    out = ["# LAVIMO demo results", "",
           f"Model `{model['model_id']}` (preset `{data['preset']}`, `{model['path']}`); store of "
           f"{store['motions']} motions from {ds['name']} (`{store['path']}`). "
           f"Made by `lavimo demo` on {data['created']}.", "",
           "P(match) is the model's calibrated probability that the motion matches the query; a hit below the "
           "model's no-match threshold is marked *weak*, and a query whose hits are all weak gets **no good match**. "
           "P(library has a match) is the calibrated probability, from the best hit's score, that the library holds "
           "a motion matching the query at all; below 50% the query gets **no good match**.",
           ""]
    for i, q in enumerate(data["queries"], 1):
        head = f'"{q["query"]}"' if q["kind"] == "text" else f"`{Path(q['query']).name}`"
        out += [f"## {i}. {q['kind'].capitalize()} query: {head}", ""]
        if q["kind"] == "video":
            where = f"rank {q['source_rank']}" if q["source_rank"] else "not among the top 10"
            out += [f"Rendered from the held-out test clip `{q['source_motion']}`, searched through the full video "
                    f"path (decode, MediaPipe, video encoder). That clip is {where}.", ""]
        if q["picture"]:
            out += [f"![query {i}]({q['picture']})", ""]
        out += _hits_table(q["hits"])
        if q.get("library_probability") is not None:
            out += ["", f"P(library has a match): {q['library_probability']:.0%}"]
        if q["no_match"]:
            out += ["", "**No good match**: no result reaches the model's no-match threshold, so the library "
                    "probably has nothing like this query; the nearest motions are listed anyway."]
        for note in q["notices"]:
            out += ["", f"Note: {note}"]
        out.append("")
    b = data.get("blender")
    out += ["## Applied in Blender", ""]
    if b and not b.get("error"):
        out += [f"`demo.blend` (Blender {b['blender']}): armature `{b['armature']}` (Mixamo-like, generated) carries "
                f"the action `{b['action']}`, frames {b['frame_start']}-{b['frame_end']} at {b['fps']:g} fps, "
                f"{b['keyed_bones']} bones keyed. This is the best hit of query {b['query_index']} "
                f"(\"{b['query']}\").", ""]
        out += [f"- warning: {w}" for w in b.get("warnings", [])]
    else:
        out += [f"Not done: {b.get('error') if b else 'skipped'}", ""]
    out += ["", "## Timings", "", "| step | seconds | |", "|---|---:|---|"]
    out += [f"| {name} | {t['seconds']:.1f} | {t.get('note', '')} |" for name, t in data["timings"].items()]
    out += ["", "## Data and license", "",
            f"Motions: {ds['attribution']}. License: {ds['license']} — non-commercial use only, with attribution. "
            "The model was trained on this data, so the same restriction applies to it and to its results.", ""]
    return "\n".join(out)


def write_results(data: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write results.json and results.md into `out_dir` (each atomically)."""
    paths = out_dir / "results.json", out_dir / "results.md"
    _write_atomic(paths[0], json.dumps(data, indent=1, ensure_ascii=False, default=_jsonable))
    _write_atomic(paths[1], results_markdown(data))
    return paths


def _hits_table(hits: list[dict]) -> list[str]:
    if not hits:
        return ["No results."]
    rows = ["| # | motion | P(match) | cosine | duration (s) | labels |", "|---:|---|---:|---:|---:|---|"]
    for i, h in enumerate(hits, 1):
        p = h["probability"]
        prob = "-" if p is None else f"{p:.0%}"
        weak = "" if h["is_match"] else " *weak*"
        labels = " ".join(f"{k}={v}" for k, v in h["labels"].items()) or (h["captions"][0] if h["captions"] else "")
        rows.append(f"| {i} | {h['name']} | {prob}{weak} | {h['score']:.3f} | {h['duration']:.1f} | {labels} |")
    return rows


def _jsonable(obj):
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
