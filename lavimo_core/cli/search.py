"""`lavimo search "a person jumps forward" --store STORE`: ranked motions for a text, video or motion query."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import Result
    from ..query import Query
    from ..store import Filters

HELP = "search a store by text, video (--video) or motion (--motion / --similar)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo search`."""
    p.epilog = ("cosine: similarity of query and motion in the model's space (-1..1, comparable within one query). "
                "P(match): the model's calibrated probability that the motion matches the query, fitted on held-out "
                "data. '(weak)' marks results below the model's no-match threshold; when every result is weak the "
                "library has nothing like the query. P(library has a match): the model's calibrated probability, "
                "from the best result's cosine, that the library holds a motion matching the query (fitted on "
                "held-out queries with their action present vs removed, at even odds); below 50% it says 'no good "
                "match'. Mirror images and near-identical takes are folded under the "
                "best-ranked one (--expand lists them, --no-fold shows them as results).")
    p.add_argument("text", nargs="?", help="describe the motion, e.g. \"a person jumps forward\"")
    p.add_argument("--store", required=True, help="store folder (from `lavimo index`)")
    p.add_argument("--model", help="checkpoint folder; default: the one the store was built with")
    p.add_argument("-k", "--top", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--video", help="a video file showing a person (combined with TEXT when both are given)")
    p.add_argument("--start", type=float, help="video: start time in seconds")
    p.add_argument("--end", type=float, help="video: end time in seconds")
    p.add_argument("--motion", help="a motion file (.bvh): find similar motions")
    p.add_argument("--similar", metavar="ID", help="a motion id in the store: find similar motions")
    p.add_argument("--text-weight", type=float, default=1.0, help="weight of TEXT in a combined query")
    p.add_argument("--video-weight", type=float, default=1.0, help="weight of --video in a combined query")
    p.add_argument("--motion-weight", type=float, default=1.0, help="weight of --motion/--similar in a combined query")
    p.add_argument("--min-duration", type=float, help="only motions at least this long (seconds)")
    p.add_argument("--max-duration", type=float, help="only motions at most this long (seconds)")
    p.add_argument("--source", help="only motions whose source file path contains this text")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="only motions with this label (e.g. content=walk; a bare VALUE matches any key); repeatable")
    p.add_argument("--no-fold", action="store_true", help="do not fold mirror images and near-duplicates")
    p.add_argument("--expand", action="store_true", help="list the folded mirror images and near-duplicates")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def model_path_for(store_path: str, model_arg: str | None) -> str | None:
    """--model if given, else the checkpoint the store records (None if it has none or it is gone)."""
    if model_arg:
        return model_arg
    from ..store import format as fmt
    recorded = fmt.read_manifest(store_path)["model"].get("path")
    return recorded if recorded and os.path.isdir(recorded) else None


def build_query(args: argparse.Namespace) -> "Query":
    """The engine query for the command-line arguments."""
    from ..query import CombinedQuery, MotionFileQuery, QueryError, StoredMotionQuery, TextQuery, VideoQuery

    parts = []
    if args.text is not None:
        parts.append((TextQuery(args.text), args.text_weight))
    if args.video:
        parts.append((VideoQuery(args.video, args.start, args.end), args.video_weight))
    if args.motion and args.similar:
        raise QueryError("give either --motion FILE or --similar ID, not both")
    if args.motion:
        parts.append((MotionFileQuery(args.motion), args.motion_weight))
    if args.similar:
        parts.append((StoredMotionQuery(args.similar), args.motion_weight))
    if not parts:
        raise QueryError('nothing to search for: give a text ("a person jumps forward"), --video FILE, --motion FILE '
                         "or --similar ID")
    return parts[0][0] if len(parts) == 1 else CombinedQuery(parts)


def build_filters(args: argparse.Namespace) -> "Filters":
    """Filters from --min-duration, --max-duration, --source and --label."""
    from ..query import QueryError
    from ..store import Filters

    labels = {}
    for item in args.label:
        key, _, value = item.partition("=") if "=" in item else ("", "", item)
        if not value.strip():
            raise QueryError(f"--label {item!r}: expected KEY=VALUE (e.g. content=walk) or VALUE")
        labels[key.strip()] = value.strip()
    return Filters(args.min_duration, args.max_duration, args.source, labels)


def run(args: argparse.Namespace) -> int:
    """Answer one query and print the ranked table (or JSON)."""
    from ..engine import Engine
    from ..query import QueryError, needs_model
    from ..errors import LavimoError
    from ..store import Store

    if args.top < 1:
        raise QueryError(f"-k must be at least 1, got {args.top}")
    query = build_query(args)
    filters = build_filters(args)
    model = model_path_for(args.store, args.model)
    embedder = None
    if model is None and needs_model(query):
        raise LavimoError(f"no model to encode the query: the store {args.store} does not record an existing "
                          "checkpoint folder; pass --model CKPT (the checkpoint the store was built with)")
    store = Store.open(args.store)
    if model is not None:
        from ..model.embedder import Embedder
        embedder = Embedder.from_checkpoint(model)
    engine = Engine(embedder, store)
    result = engine.run(query, k=args.top, filters=filters, fold=not args.no_fold)
    if result.error:
        raise LavimoError(result.error)
    if args.json:
        print(json.dumps(dict(result.to_dict(), store=str(store.path), model=store.model.model_id), indent=1,
                         ensure_ascii=False))
        return 0
    for note in result.notices:
        print(f"note: {note}", file=sys.stderr)
    print(format_table(result, expand=args.expand))
    if result.hits and result.library_probability is not None:
        print(f"\nP(library has a match): {result.library_probability:.0%}"
              + (" — no good match in this library; the nearest motions are listed anyway" if result.no_match else ""))
    elif result.no_match and result.hits:  # a model without the library calibration: the threshold alone
        print("\nNo good match: no result reaches the model's no-match threshold, so the library probably has "
              "nothing like this query; the nearest motions are listed anyway.")
    return 0


def format_table(result: "Result", expand: bool = False) -> str:
    """A ranked plain-text table: rank, name, cosine, P(match), duration, labels or caption."""
    rows = [("#", "motion", "cosine", "P(match)", "dur s", "labels / caption")]

    def row(rank: str, h, indent: str = "") -> tuple:
        what = " ".join(f"{k}={v}" for k, v in h.labels.items()) or (h.captions[0] if h.captions else "")
        if len(what) > 60:
            what = what[:57] + "..."
        p = "-" if h.probability is None else f"{h.probability:.0%}"
        mark = "" if h.is_match else " (weak)"
        extra = f"  [{h.relation}]" if h.relation else (f"  (+{len(h.folded)} folded)" if h.folded and not expand else "")
        return (rank, indent + h.name, f"{h.score:.3f}", p + mark, f"{h.duration:.1f}", what + extra)

    for i, h in enumerate(result.hits, 1):
        rows.append(row(str(i), h))
        if expand:
            rows += [row("", f, "  └ ") for f in h.folded]
    if len(rows) == 1:
        return "no results"
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if j != 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))).rstrip()
                     for r in rows)
