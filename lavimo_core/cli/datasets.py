"""`lavimo datasets [SPEC]`: a table of a dataset's clips (frames, duration, labels, split), totals, skipped files."""

from __future__ import annotations

import argparse
import sys

HELP = "List a dataset's clips (frames, duration, content, style, split), totals and skipped files."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo datasets`."""
    parser.add_argument("spec", nargs="?", default="bandai-namco-1",
                        help="'bandai-namco-1' (default), 'bandai-namco-2-dev', a HumanML3D/KIT-ML root, a folder of .bvh "
                             "files, or several joined with '+'")
    parser.add_argument("--no-cache", action="store_true", help="convert every file again, ignoring the cache")


def summary(ds) -> str:
    """The clip table, totals, license and skipped files of a MotionDataset, as text."""
    split_of = ds.split_of()
    rows = [(m.name, str(m.num_frames), f"{m.duration:.2f}", m.labels.get("content", "-"),
             m.labels.get("style", "-"), split_of.get(m.name, "-")) for m in ds.motions]
    head = ("clip", "frames", "duration (s)", "content", "style", "split")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    right = {1, 2}

    def line(r) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [line(head), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]
    frames = sum(m.num_frames for m in ds.motions)
    seconds = sum(m.duration for m in ds.motions)
    out.append("")
    out.append(f"{ds.name}: {len(ds.motions)} clips, {frames} frames at 20 fps, {seconds / 60:.1f} min")
    for s in ("train", "val", "test"):
        ms = ds.split(s)
        out.append(f"  {s:5s}: {len(ms):5d} clips, {sum(m.duration for m in ms) / 60:6.1f} min")
    for key in ("content", "style"):
        values = sorted({m.labels[key] for m in ds.motions if key in m.labels})
        if values:
            out.append(f"  {len(values)} {key}s: {', '.join(values)}")
    captioned = sum(bool(m.captions) for m in ds.motions)
    out.append(f"  captions: {captioned} of {len(ds.motions)} clips, "
               f"{sum(len(m.captions) for m in ds.motions)} in all")
    if ds.license or ds.attribution:
        out.append(f"  license: {ds.license or '-'}; attribution: {ds.attribution or '-'}")
    if ds.skipped:
        out.append(f"\nskipped {len(ds.skipped)} file(s):")
        out.extend(f"  {f}: {reason}" for f, reason in ds.skipped)
    else:
        out.append("  skipped: none")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Load the dataset and print its summary."""
    from ..data import load_dataset

    ds = load_dataset(args.spec, use_cache=not args.no_cache, progress=sys.stderr.isatty())
    print(summary(ds))
    return 0
