"""The `lavimo` command: one module per subcommand in this package, loaded only when used.

Each subcommand module defines `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import LavimoError

# name -> module in lavimo_core.cli. Subcommand modules import heavy packages (torch, av) inside
# run(), so building the parser stays fast and works without them.
SUBCOMMANDS = ("demo", "datasets", "train", "eval", "index", "search", "info", "render", "featurize",
               "retarget-preview", "export-onnx", "recalibrate")


def _load(name: str):
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand whose module is present."""
    parser = argparse.ArgumentParser(prog="lavimo", description="LAVIMO tri-modal motion retrieval.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name.replace('-', '_')}":
                continue  # subcommand not built yet
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lavimo` console script."""
    # Before torch loads: idle OpenMP threads sleep instead of spinning, which on a busy 2-core machine
    # made training and query encoding several times slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except LavimoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
