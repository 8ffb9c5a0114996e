"""`lavimo index SOURCE [--model CKPT] --out STORE`: encode a motion library into a searchable store.

Without --model it uses the model an existing store was built with (--append), else the shipped default model.
"""

from __future__ import annotations

import argparse
import os
import sys

HELP = "encode a motion library (a dataset, a folder of BVH files, or one file) into a store"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo index`."""
    p.add_argument("source", nargs="?", help='"bandai-namco-1", a HumanML3D root, a folder of .bvh files, or a .bvh file')
    p.add_argument("--model", help="checkpoint folder (from `lavimo train`); default: the store's own model when "
                   "appending, else the shipped default model (models/default)")
    p.add_argument("--out", required=True, help="store folder to create (or to change with --append/--remove)")
    p.add_argument("--dtype", choices=("float32", "float16"), default="float32",
                   help="embedding storage; float16 halves memory for very large libraries")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--append", action="store_true", help="add the motions not yet in an existing store")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing store once the new one is built")
    mode.add_argument("--remove", nargs="+", metavar="ID", help="remove these motion ids from the store (no re-encoding)")
    p.add_argument("--compact", action="store_true", help="after removing, rewrite segments to free the space")
    p.add_argument("--faiss", action="store_true",
                   help="also build an approximate (HNSW) index for very large stores; needs faiss-cpu")
    p.add_argument("--batch-size", type=positive_int, default=32, help="motions encoded at once (default 32)")
    p.add_argument("--device", default="cpu", help='torch device for encoding, e.g. "cuda"')


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (a usage error, exit code 2, otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def default_model(args: argparse.Namespace) -> str:
    """--model; else, appending, the checkpoint the store was built with; else the shipped default model."""
    from ..demo.shipped import problems, shipped_model
    from ..errors import LavimoError
    from ..store.format import MANIFEST
    from .search import model_path_for

    if args.model:
        return args.model
    if args.append and os.path.isfile(os.path.join(args.out, MANIFEST)):
        if recorded := model_path_for(args.out, None):
            return recorded
        raise LavimoError(f"{args.out} was built with a model that is no longer where it was; pass --model CKPT "
                          "(the checkpoint the store was built with)")
    if (shipped := shipped_model()) is None:
        raise LavimoError("no --model given and the shipped default model cannot be used ("
                          + "; ".join(problems()[:2]) + "): pass --model CKPT")
    print(f"model: the shipped default model ({shipped})", file=sys.stderr)
    return str(shipped)


def run(args: argparse.Namespace) -> int:
    """Build, extend or prune a store."""
    from ..errors import LavimoError
    from ..store import Store

    if args.remove:
        store = Store.open(args.out)
        store.remove(args.remove)
        freed = store.compact() if args.compact else 0
        print(f"removed {len(args.remove)} motion(s) from {args.out}; {len(store)} left"
              + (f"; freed {freed / 1e6:.1f} MB" if args.compact else ""))
        return 0
    if not args.source:
        raise LavimoError("lavimo index needs SOURCE: a dataset name, a folder of .bvh files or a .bvh file "
                          "(or --remove ID ... to remove motions)")
    from tqdm import tqdm

    from ..model.embedder import Embedder
    from ..store.build import build_store, check_output, load_source

    check_output(args.out, append=args.append, overwrite=args.overwrite)  # before minutes of loading
    model = default_model(args)
    embedder = Embedder.from_checkpoint(model, device=args.device)
    print(f"loading motions from {args.source} ...", file=sys.stderr)
    motions, skipped = load_source(args.source, progress=True)
    for f, reason in skipped:
        print(f"skipped {f}: {reason}", file=sys.stderr)
    if not motions:
        raise LavimoError(f"no motions could be read from {args.source}; nothing to index")
    bar = tqdm(total=len(motions), unit="motion", desc="indexing")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(fraction * bar.total)
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    try:
        report = build_store(motions, embedder, args.out, model_path=model, dtype=args.dtype, append=args.append,
                             overwrite=args.overwrite, batch_size=args.batch_size, progress=progress)
    finally:
        bar.close()
    for f, reason in report.skipped:
        print(f"skipped {f}: {reason}", file=sys.stderr)
    store = Store.open(args.out)
    if args.faiss:
        store.build_faiss_index()
    if report.resumed:
        print("resumed an interrupted build", file=sys.stderr)
    print(f"{args.out}: {len(store)} motions ({report.added} added"
          + (f", {report.already_present} already there" if report.already_present else "")
          + (f", {len(skipped) + len(report.skipped)} skipped" if skipped or report.skipped else "")
          + f") in {report.seconds:.1f} s, model {store.model.model_id}")
    return 0
