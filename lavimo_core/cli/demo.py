"""`lavimo demo`: the whole job for a new user (dataset, model, store, text and video queries, a motion applied in Blender)."""

from __future__ import annotations

import argparse
import sys

HELP = ("find (or download) Bandai-Namco-1, use the shipped default model (or train one), index Bandai-Namco 1 and 2, "
        "run text and video queries, and apply the best hit to a Mixamo-like rig in demo.blend")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `lavimo demo`."""
    parser.add_argument("--preset", default="default",
                        help="model preset: 'default' (the shipped model in models/default; trained, up to ~15 min "
                             "on 2 cores, only when its files are missing or changed) "
                             "or 'tiny' (1-2 min, for tests)")
    parser.add_argument("--out", default="demo_out", help="folder for everything the demo makes (default: demo_out)")
    parser.add_argument("--no-download", action="store_true",
                        help="never download the dataset; explain how to get it by hand when it is missing")
    parser.add_argument("--library", default=None,
                        help="dataset spec to index, e.g. bandai-namco-1 (default: bandai-namco-1+bandai-namco-2-dev, "
                             "the second where it is on this machine)")


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 on success, 130 when training was interrupted (run it again to resume)."""
    from ..demo.run import run_demo
    from ..model.config import PRESETS
    from ..model.errors import ConfigError
    from ..train.loop import TrainingInterrupted

    if args.preset not in PRESETS or args.preset == "humanml3d":
        raise ConfigError(f"--preset {args.preset!r}: the demo trains on Bandai-Namco-1; choose default, tiny or bimodal")
    try:
        run_demo(args.preset, args.out, allow_download=not args.no_download, library=args.library)
    except TrainingInterrupted as exc:
        print(f"training stopped: {exc}. Run the demo again to resume.", file=sys.stderr)
        return 130
    return 0
