"""`lavimo recalibrate CKPT`: refit a checkpoint's score calibration and no-match thresholds, no retraining."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = ("refit a checkpoint's calibration (match probability, no-match thresholds) on its validation split, "
        "as training would with this version")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo recalibrate`."""
    p.add_argument("checkpoint", help="checkpoint folder (from `lavimo train`)")


def run(args: argparse.Namespace) -> int:
    """Refit, write checkpoint.json, and print the thresholds before and after."""
    from ..model.calibration import Calibration
    from ..model.checkpoint import read_json
    from ..train.calibrate import recalibrate

    meta = Path(args.checkpoint) / "checkpoint.json"
    # A missing or broken checkpoint is reported by recalibrate's loader, which says what to do about it.
    before = Calibration.from_dict(read_json(meta).get("calibration", {})) if meta.is_file() else Calibration()
    after = recalibrate(args.checkpoint, progress=True)
    for kind, t in after.no_match_below.items():
        old = before.no_match_below.get(kind)
        print(f"{kind}: no good match below cosine {t:.3f}" + (f" (was {old:.3f})" if old is not None else ""))
    if (w := after.wording_below) is not None:
        was = before.wording_below
        print(f"text: wording unknown to the model below cosine {w:.3f} to its nearest of "
              f"{len(after.wording_bank)} training captions" + (f" (was {was:.3f})" if was is not None else ""))
    return 0
