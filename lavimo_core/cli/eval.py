"""`lavimo eval`: retrieval metrics of a checkpoint (TMR protocols a, b, d) as a table and JSON."""

from __future__ import annotations

import argparse

HELP = "evaluate a checkpoint: text/motion/video retrieval R@1..R@10 and MedR under protocols a, b, d"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `lavimo eval`."""
    p.add_argument("--model", required=True, help="checkpoint folder (from lavimo train)")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.add_argument("--dataset", default=None, help="dataset to evaluate on (default: the one it was trained on)")
    p.add_argument("--no-video", action="store_true", help="skip video queries (they render and run MediaPipe)")
    p.add_argument("--seed", type=int, default=0, help="seed for caption choice and cameras")
    p.add_argument("--video-fps", type=float, default=30.0,
                   help="frame rate of the rendered query videos (they are sampled at 10 fps either way)")


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the table."""
    import json

    from ..atomic import write_atomic
    from ..eval.report import format_table, to_json
    from ..eval.run import evaluate
    results, info = evaluate(args.model, args.split, video=not args.no_video, seed=args.seed,
                             dataset=args.dataset, video_fps=args.video_fps, progress=True)
    print(format_table(results, f"{info['model_id']} on {info['dataset']} [{args.split}], {info['n']} clips"))
    print("protocols: a = own item only; b-content / b-content+style = any item with the query's labels "
          "(text queries name only the content at the content level); d = batches of 32 (averaged)")
    if args.json:
        write_atomic(args.json, json.dumps(to_json(results, info), indent=2))
        print(f"wrote {args.json}")
    return 0
