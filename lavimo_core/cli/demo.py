"""`lavimo demo`: import the default dataset (Bandai-Namco-1) and print its summary."""

from __future__ import annotations

import argparse
import sys

HELP = "Import the default dataset and print a summary of its clips, durations and labels."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`lavimo demo` takes no arguments yet."""


def run(args: argparse.Namespace) -> int:
    """Load the default dataset (cached after the first run) and print the `lavimo datasets` table."""
    from ..data.dataset import load_dataset
    from .datasets import summary

    print(summary(load_dataset(progress=sys.stderr.isatty())))
    return 0
