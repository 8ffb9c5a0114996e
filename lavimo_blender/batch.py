"""Headless LAVIMO: search (text, a file of prompts, or a video), optionally apply the best hit, save, report JSON.

    blender -b scene.blend --python <addon>/batch.py -- --query "a person waves" --armature Armature \\
        --top 5 --apply --out out.blend --report report.json
    python -m lavimo_blender.batch --blend scene.blend --query "..." ...      # through the bpy module
    lavimo_blender.batch.main([...]) / run(args)                             # from Python

Runs the add-on's own operators' code paths synchronously (background mode has no timers). The report
lists, per query, the hits (name, score, calibrated probability, duration, captions, labels) and, with
--apply, the action created on the armature. Exit code 0 when every query ran, 1 otherwise, 2 on bad
arguments.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The batch command line."""
    p = argparse.ArgumentParser(prog="lavimo batch", description="LAVIMO headless search and apply.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--query", help="a text prompt")
    what.add_argument("--queries", type=Path, help="a text file, one prompt per line (# comments skipped)")
    what.add_argument("--video", type=Path, help="a video of a person moving")
    p.add_argument("--blend", type=Path, help="open this .blend first (bpy module; `blender -b FILE` opens it itself)")
    p.add_argument("--armature", help="name of the armature object to apply to (default: the active armature)")
    p.add_argument("--top", type=int, default=5, help="results per query (default 5)")
    p.add_argument("--apply", action="store_true", help="apply each query's best hit to the armature")
    p.add_argument("--root-motion", choices=("full", "in_place", "locked_heading"), default="full")
    p.add_argument("--frame-start", type=int, help="first frame of the applied keys (default: current frame)")
    p.add_argument("--nla", action="store_true",
                   help="apply as NLA strips, one after another (without it each query replaces the active action)")
    p.add_argument("--bone-map", help="bone-map overrides: JSON object or joint=bone,joint=bone")
    p.add_argument("--model", help="checkpoint folder (default: the add-on's preferences)")
    p.add_argument("--store", help="store folder (default: the add-on's preferences)")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: preferences)")
    p.add_argument("--out", type=Path, help="save the scene here (.blend)")
    p.add_argument("--report", type=Path, help="write the JSON report here (default: stdout)")
    return p


class BatchError(Exception):
    """Bad arguments or setup; the message says what to fix."""


def _queries(args) -> list[tuple[str, str]]:
    if args.query is not None:
        return [("text", args.query)]
    if args.video is not None:
        return [("video", str(args.video))]
    try:
        lines = args.queries.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BatchError(f"cannot read --queries {args.queries}: {exc.strerror}") from None
    prompts = [(n, l.strip()) for n, l in enumerate(lines, 1) if l.strip() and not l.strip().startswith("#")]
    if not prompts:
        raise BatchError(f"--queries {args.queries} holds no prompts (one per line)")
    return [("text", text) for _, text in prompts]


def parse_bone_map(text: str | None) -> dict[str, str] | None:
    """--bone-map as a dict: a JSON object, or comma-separated joint=bone pairs."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BatchError(f"--bone-map is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise BatchError("--bone-map JSON must map joint names to bone names")
        return data
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise BatchError("--bone-map must be joint=bone pairs separated by commas, e.g. pelvis=Hips,head=Head")
    return {j.strip(): b.strip() for j, b in pairs}


def _addon():
    """The add-on package and whether this call registered it (the enabled extension when Blender loaded one)."""
    here = Path(__file__).resolve().parent
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == here / "__init__.py":
            addon = module
            break
    else:
        sys.path.insert(0, str(here.parent))
        addon = importlib.import_module(here.name)
    import bpy

    if hasattr(bpy.types.WindowManager, "lavimo"):
        return addon, False
    addon.register()
    return addon, True


def _settings(addon, args, context):
    prefs = importlib.import_module(f"{addon.__name__}.prefs")
    current = prefs.settings(context)
    if args.model:
        current.model_path = str(Path(args.model).resolve())
    if args.store:
        current.store_path = str(Path(args.store).resolve())
    if args.device:
        current.device = args.device
    current.top_k = args.top
    return current


def run(args: argparse.Namespace) -> dict:
    """Run a parsed batch; returns the report (also written to --report). Raises BatchError on bad setup."""
    addon, registered_here = _addon()
    try:
        return _run(addon, args)
    finally:
        if registered_here:  # leave the process as we found it (in-process callers, tests)
            addon.unregister()


def _run(addon, args: argparse.Namespace) -> dict:
    import bpy

    if args.blend is not None:
        if not args.blend.is_file():
            raise BatchError(f"--blend {args.blend}: no such file")
        bpy.ops.wm.open_mainfile(filepath=str(args.blend))
    if args.top < 1:
        raise BatchError("--top must be at least 1")
    context = bpy.context
    current = _settings(addon, args, context)
    pkg = addon.__name__
    engine_session = importlib.import_module(f"{pkg}.engine_session")
    query = importlib.import_module(f"{pkg}.search.query")
    search_ops = importlib.import_module(f"{pkg}.search.ops")
    apply_ops = importlib.import_module(f"{pkg}.apply.ops")
    state = importlib.import_module(f"{pkg}.search.props").state(context)
    describe = importlib.import_module(f"{pkg}.errors").describe
    queries = _queries(args)
    bone_map = parse_bone_map(args.bone_map)
    armature = None
    if args.apply:
        armature = bpy.data.objects.get(args.armature) if args.armature else context.view_layer.objects.active
        if armature is None or armature.type != "ARMATURE":
            what = f"no object named {args.armature!r}" if args.armature and armature is None else (
                f"{armature.name!r} is not an armature" if armature is not None else "no active armature")
            names = [o.name for o in bpy.data.objects if o.type == "ARMATURE"]
            raise BatchError(f"--apply needs an armature: {what}; armatures in the file: {names or 'none'}")
    try:
        engine_session.check_paths(current.model_path, current.store_path)
    except engine_session.SetupError as exc:
        raise BatchError(f"{exc} (or pass --model/--store)") from None

    from lavimo_core.query import TextQuery, VideoQuery

    report = {"model": current.model_path, "store": current.store_path, "blend": bpy.data.filepath,
              "armature": armature.name if armature else None, "queries": []}
    frame_start = args.frame_start
    for kind, text in queries:
        entry = {"kind": kind, "query": text, "ok": False}
        report["queries"].append(entry)
        if kind == "video":
            error = search_ops.check_video(text)
            if error:
                entry["error"] = error
                continue
            search, label = VideoQuery(text), f"Video: {Path(text).name}"
        else:
            if not text.strip():
                entry["error"] = "empty prompt"
                continue
            search, label = TextQuery(text), f"Text: {text}"
        outcome = query.run_blocking(context, current, search, label, with_thumbnails=False)
        result = outcome.result
        if result is None:
            entry["error"] = outcome.error or "cancelled"
            continue
        entry.update(result.to_dict())
        if args.apply and result.hits:
            options = apply_ops.apply_options(context.scene)
            options.root_motion = args.root_motion
            options.frame_start = frame_start
            options.as_nla_strip = args.nla
            options.bone_map_overrides = bone_map
            try:
                applied = apply_ops.apply_result(context, armature, state.results[0], options)
            except Exception as exc:
                entry.update(ok=False, error=describe(exc))
                continue
            if args.nla:  # strips one after another, so a file of prompts becomes a sequence
                frame_start = applied.frame_end + 1
            entry["applied"] = {"motion": result.hits[0].name, "action": applied.action_name,
                                "frame_start": applied.frame_start, "frame_end": applied.frame_end,
                                "keyed_bones": len(applied.keyed_bones), "nla_track": applied.nla_track,
                                "warnings": applied.warnings}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        bpy.ops.wm.save_as_mainfile(filepath=str(args.out.resolve()), copy=False)
        report["saved"] = str(args.out.resolve())
    text = json.dumps(report, indent=2)
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point; `argv` defaults to what follows `--` on Blender's command line (or sys.argv[1:])."""
    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    args = build_parser().parse_args(argv)
    try:
        report = run(args)
    except BatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [q for q in report["queries"] if not q["ok"]]
    for q in failed:
        print(f"error: {q['kind']} query {q['query']!r}: {q['error']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
