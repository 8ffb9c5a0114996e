"""Store-mechanics fixtures: real Bandai-Namco motions and model-free embeddings of them.

The store does not care where embeddings come from, so its mechanics (format, atomicity, add/remove,
top-k, filters, folding) are tested with a deterministic descriptor of the real motion: the mean and
standard deviation over time of the standardised HumanML3D features, L2-normalised. End-to-end tests
with the trained model use the root `built_store` / `trained_model` fixtures instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess

import numpy as np
import pytest

from lavimo_core.motion.load import load_motion
from lavimo_core.paths import find_dataset
from lavimo_core.store import ModelIdentity
from lavimo_core.store.encode import mirrored


def _labels(name: str) -> dict[str, str]:
    # Bandai-Namco file names are dataset-1_{content}_{style}_{take}
    _, content, style, _ = name.split("_")
    return {"content": content, "style": style}


@pytest.fixture(scope="session")
def bandai_motions():
    """Every fifth Bandai-Namco-1 clip (35 clips), loaded as canonical Motions with labels and a caption."""
    files = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[::5]
    motions = []
    for f in files:
        m = load_motion(f)
        m.labels = _labels(m.name)
        m.captions = [f"a person does a {m.labels['style']} {m.labels['content'].replace('-', ' ')}"]
        m.source.license, m.source.attribution = "CC BY-NC 4.0", "Bandai Namco Research Inc."
        motions.append(m)
    return motions


class FeatureStats:
    """Mean and std over time of standardised features -> unit vector (dim 526), and its identity."""

    def __init__(self, motions):
        allf = np.concatenate([m.features for m in motions])
        self.mean, self.std = allf.mean(0), allf.std(0) + 1e-3
        digest = hashlib.sha256(self.mean.tobytes() + self.std.tobytes()).hexdigest()
        self.identity = ModelIdentity("feature-stats", digest, 526)

    def __call__(self, features_list) -> np.ndarray:
        out = []
        for f in features_list:
            z = (f - self.mean) / self.std
            out.append(np.concatenate([z.mean(0), z.std(0)]))
        out = np.asarray(out, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed(self, motions):
        """(embeddings, mirror embeddings) of motions."""
        return self([m.features for m in motions]), self([mirrored(m).features for m in motions])


@pytest.fixture(scope="session")
def stats(bandai_motions):
    return FeatureStats(bandai_motions)


@pytest.fixture
def make_store(tmp_path, bandai_motions, stats):
    """Create a store of the given motions (default: all fixture motions) under tmp_path."""
    from lavimo_core.store import Store

    def make(motions=None, name="store", dtype="float32"):
        motions = bandai_motions if motions is None else motions
        store = Store.create(tmp_path / name, stats.identity, dtype=dtype)
        emb, mir = stats.embed(motions)
        store.add(motions, embeddings=emb, mirror_embeddings=mir)
        return store

    return make


class StatsEmbedder:
    """The FeatureStats descriptor behind the Embedder interface build_store uses (no trained model needed)."""

    def __init__(self, stats: FeatureStats):
        self.stats = stats
        self.model_id, self.weights_hash, self.dim = "feature-stats", stats.identity.weights_hash, 526
        self.calibration = None

    def embed_motion(self, motions):
        """Unit descriptors of the motions' features."""
        return self.stats([m.features for m in motions])


@pytest.fixture(scope="session")
def stats_embedder(stats):
    return StatsEmbedder(stats)


def _edit_manifest(root, change):
    m = json.loads((root / "store.json").read_text())
    change(m)
    (root / "store.json").write_text(json.dumps(m))


@contextlib.contextmanager
def _read_only(path):
    """Make `path` and everything under it unwritable (chattr +i as root, who ignores permission bits)."""
    paths = [path, *sorted(path.rglob("*"))]
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True)
        if made.returncode != 0:  # e.g. a container file system without immutable flags
            subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True)
            pytest.skip(f"cannot make files read-only for root here ({made.stderr.decode().strip()[:80]})")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in paths}
        for p in reversed(paths):
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p in paths:
                p.chmod(modes[p])


@pytest.fixture
def edit_manifest():
    """edit_manifest(store_root, change): apply change(manifest dict) to store.json in place."""
    return _edit_manifest


@pytest.fixture
def read_only():
    """read_only(path): a context manager making path and everything under it unwritable."""
    return _read_only
