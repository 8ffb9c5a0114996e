"""`lavimo train`: train (or resume) a LAVIMO model into a checkpoint folder."""

from __future__ import annotations

import argparse
import json

HELP = "train a model (--preset default|tiny|bimodal|humanml3d or --config FILE) into --out DIR; resumes if interrupted"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `lavimo train`."""
    p.add_argument("--preset", default=None, help="start from a named configuration (default: 'default')")
    p.add_argument("--config", default=None, help="JSON config file (see lavimo_core/model/config.py)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one setting, e.g. --set train.max_steps=500 (repeatable; VALUE is JSON or text)")
    p.add_argument("--out", required=True, help="checkpoint folder (created; an unfinished run in it is resumed)")
    p.add_argument("--restart", action="store_true", help="ignore an unfinished run in --out and start over")
    p.add_argument("--dump-config", action="store_true", help="print the resolved config as JSON and exit")


def resolve_config(args: argparse.Namespace):
    """The config from --preset/--config plus --set overrides (raises ConfigError on bad input)."""
    from ..model.config import LavimoConfig, preset
    from ..model.errors import ConfigError
    if args.config and args.preset:
        raise ConfigError("give either --preset or --config, not both (a config file can say \"preset\")")
    cfg = LavimoConfig.load(args.config) if args.config else preset(args.preset or "default")
    data = cfg.to_dict()
    for item in args.overrides:
        key, sep, raw = item.partition("=")
        section, _, name = key.partition(".")
        if not sep or section not in ("model", "loss", "train") or not name:
            raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE with SECTION model, loss or train")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        data[section][name] = value
    return LavimoConfig.from_dict(data, where="--set" if args.overrides else "config")


def run(args: argparse.Namespace) -> int:
    """Train; prints where the checkpoint is and its validation score."""
    import os
    import sys

    cfg = resolve_config(args)
    if args.dump_config:
        print(json.dumps(cfg.to_dict(), indent=2))
        return 0
    from ..model.checkpoint import read_json
    from ..train.loop import TrainingInterrupted, train
    try:
        out = train(cfg, args.out, restart=args.restart)
    except TrainingInterrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    if os.environ.get("RANK", "0") == "0" and (out / "checkpoint.json").is_file():
        t = read_json(out / "checkpoint.json").get("training", {})
        print(f"checkpoint: {out}  (best validation score {t.get('best_score', float('nan')):.3f} at step "
              f"{t.get('best_step')}, {t.get('seconds', 0) / 60:.1f} min, stopped: {t.get('stop_reason')})")
    return 0
