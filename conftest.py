"""Session fixtures shared by tests/ and blender_tests/: real trained assets, built once and cached.

Each fixture caches under $LAVIMO_CACHE keyed by a hash of the code it depends on, so a second
`make test` (and the Blender 4.5 run after the 5.0 run) reuses them instead of retraining.
"""


# ---------------------------------------------------------------- model (owner: model)
import os  # noqa: E402

import pytest  # noqa: E402  (each owner's section is self-contained)

# Before anything imports torch: idle OpenMP threads sleep instead of spinning, which on a busy 2-core
# machine made training steps 4-5x slower in wall time (the lavimo CLI does the same).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _tiny_model_key() -> str:
    """Hash of everything the tiny test model depends on: the code that makes it and the data."""
    import hashlib
    from pathlib import Path

    from lavimo_core.paths import find_dataset

    pkg = Path(__file__).parent / "lavimo_core"
    h = hashlib.sha256(b"tiny-v1")
    for folder in ("model", "train", "motion", "data", "video", "synthesis"):
        for f in sorted((pkg / folder).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".json"):
                h.update(str(f.relative_to(pkg)).encode() + f.read_bytes())
    for f in sorted((find_dataset("bandai-namco-1") / "data").iterdir()):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def trained_model():
    """Path of a tiny tri-modal checkpoint trained on real Bandai-Namco-1 data (the `tiny` preset, ~1-2 min).

    Cached under $LAVIMO_CACHE/test-models keyed by the model/train/motion/data/video sources and the
    data, so later runs (and blender_tests under both Blender versions) reuse it. Read-only: copy it to
    change it.
    """
    import shutil

    from lavimo_core.model.config import preset
    from lavimo_core.paths import cache_dir
    from lavimo_core.train.loop import train

    out = cache_dir("test-models") / f"tiny-{_tiny_model_key()}"
    # Parallel test sessions (tests/ and blender_tests/, developers) would otherwise train into the same
    # .partial folder at once: one trains, the others wait and reuse its checkpoint.
    import fcntl
    with open(out.with_name(out.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "checkpoint.json").is_file():
            partial = out.with_name(out.name + ".partial")   # an interrupted earlier run resumes here
            cfg = preset("tiny")
            cfg.train.progress = False
            train(cfg, partial)
            shutil.rmtree(partial / "resume", ignore_errors=True)
            partial.rename(out)
    return out

# ---------------------------------------------------------------- store (owner: store)
import pytest  # noqa: E402  (each owner's section is self-contained)


@pytest.fixture(scope="session")
def built_store(trained_model):
    """Path of a store of every Bandai-Namco-1 clip indexed with `trained_model` (read-only: copy it to change it).

    Cached under $LAVIMO_CACHE/test-stores, keyed by the model's weights hash and the store, motion and
    data sources, so it is rebuilt only when one of them changes.
    """
    import hashlib
    from pathlib import Path

    from lavimo_core.model.checkpoint import weights_sha256
    from lavimo_core.paths import cache_dir

    pkg = Path(__file__).parent / "lavimo_core"
    # The store records the model folder (`lavimo search` finds the model through it), so key on it too.
    h = hashlib.sha256(f"{weights_sha256(trained_model)}:{Path(trained_model).resolve()}".encode())
    for folder in ("store", "motion", "data"):
        for f in sorted((pkg / folder).glob("*.py")):
            h.update(f.name.encode() + f.read_bytes())
    out = cache_dir("test-stores") / f"bandai-namco-1-{h.hexdigest()[:16]}"
    # Several test sessions (tests/, blender_tests/, developers in parallel) may need it at once: one builds.
    import fcntl
    with open(out.with_name(out.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "store.json").is_file():
            from lavimo_core.model.embedder import Embedder
            from lavimo_core.store.build import build_store, load_source

            motions, _ = load_source("bandai-namco-1")
            build_store(motions, Embedder.from_checkpoint(trained_model), out, model_path=trained_model)
    return out


# ---------------------------------------------------------------- shared by tests of the model, store and engine
@pytest.fixture(scope="module")
def embedder(trained_model):
    """The Embedder of `trained_model`, one per test module (so a module may change it without touching others)."""
    from lavimo_core.model.embedder import Embedder
    return Embedder.from_checkpoint(trained_model)


@pytest.fixture(scope="module")
def store(built_store, embedder):
    """`built_store` opened with `embedder`, one per test module."""
    from lavimo_core.store import Store
    return Store.open(built_store, embedder)
