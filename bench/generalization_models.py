"""Models the generalization bench measures: one preset trained on one dataset, cached by what it depends on.

`python bench/generalization_models.py PRESET DATASET [--bimodal] [--seed N]` (PRESET: a config preset, or `recipe` for
the shipped model's recipe) trains one ahead of the bench (e.g. in
the background, with LAVIMO_THREADS=1), so that `bench_generalization.py` only loads it.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "recipe": the shipped model's recipe (tools/make_model.py: default preset, domain-randomised video, more
# steps, early stopping), only the dataset changed, so the bench measures what `make model` ships.
RECIPE = "recipe"


def recipe_config():
    """The shipped model's LavimoConfig (tools/make_model.py RECIPE)."""
    sys.path.insert(0, str(ROOT))
    from tools.make_model import recipe_config as shipped_recipe
    return shipped_recipe()


def model_key(preset: str, dataset: str, bimodal: bool, seed: int = 0) -> str:
    """Hash of the preset, dataset, seed and the code that makes the model."""
    # Seed 0 keeps the key it had before seeds were a parameter, so its cached models stay valid.
    h = hashlib.sha256(f"gen-v1:{preset}:{dataset}:{bimodal}{f':seed{seed}' if seed else ''}".encode())
    if preset == RECIPE:
        h.update((ROOT / "tools" / "make_model.py").read_bytes())
    pkg = ROOT / "lavimo_core"
    for folder in ("model", "train", "motion", "data", "video", "synthesis"):
        for f in sorted((pkg / folder).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".json"):
                h.update(str(f.relative_to(pkg)).encode() + f.read_bytes())
    return h.hexdigest()[:16]


def trained_model(preset: str, dataset: str, *, bimodal: bool = False, seed: int = 0,
                  train_missing: bool = True) -> Path | None:
    """Checkpoint folder of `preset` trained on `dataset` with `seed` (bimodal: without video encoder and fusion);
    trained once, then read from $LAVIMO_CACHE/bench-models. The presets' wall-time cap is lifted so a busy
    machine does not change the result, only how long it takes."""
    from lavimo_core.model.config import preset as make_preset
    from lavimo_core.paths import cache_dir
    from lavimo_core.train.loop import train

    tag = f"{preset}{'-bimodal' if bimodal else ''}-{dataset.replace('+', '_')}{f'-seed{seed}' if seed else ''}"
    out = cache_dir("bench-models") / f"{tag}-{model_key(preset, dataset, bimodal, seed)}"
    with open(out.with_name(out.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "checkpoint.json").is_file():
            if not train_missing:
                return None
            partial = out.with_name(out.name + ".partial")
            cfg = recipe_config() if preset == RECIPE else make_preset(preset)
            cfg.train.dataset, cfg.train.progress, cfg.train.max_minutes = dataset, False, 0.0
            cfg.train.seed = seed
            if bimodal:
                cfg.model.use_video = cfg.model.use_fusion = False
            train(cfg, partial)
            shutil.rmtree(partial / "resume", ignore_errors=True)
            partial.rename(out)
    return out


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="Train (or find) one model the generalization bench measures.")
    parser.add_argument("preset", help="a config preset, or 'recipe' for the shipped model's recipe")
    parser.add_argument("dataset", help="e.g. bandai-namco-1 or bandai-namco-2-dev")
    parser.add_argument("--bimodal", action="store_true", help="without video encoder and fusion")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(trained_model(args.preset, args.dataset, bimodal=args.bimodal, seed=args.seed))
