"""Left and right in queries: the trained (tiny) model ranks a clip of the named side first, and a mirrored
library flips the answer, on real held-out Bandai-Namco-1 clips with the frozen query pairs."""

import json
from pathlib import Path

import numpy as np
import pytest

from lavimo_core.motion.mirror import mirror_joints
from lavimo_core.motion.motion import Motion

PAIRS = json.loads((Path(__file__).resolve().parents[2] / "bench" / "generalization_queries.json").read_text())


@pytest.fixture(scope="module")
def sided(trained_model):
    from lavimo_core.data import load_dataset
    from lavimo_core.model.embedder import Embedder
    test = [m for m in load_dataset("bandai-namco-1").split("test") if m.labels["content"] in ("walk-left", "walk-right")]
    return Embedder.from_checkpoint(trained_model), test


def _side_first(embedder, motions, sides, pair) -> list[bool]:
    """For the pair's left and right query: does a clip of that side outrank every clip of the other side."""
    sim = embedder.embed_text([pair["left"], pair["right"]]) @ embedder.embed_motion(motions).T
    sides = np.array(sides)
    return [sim[i][sides == s].max() > sim[i][sides != s].max() for i, s in enumerate(("left", "right"))]


def test_left_and_right_queries_rank_their_side_first(sided):
    embedder, test = sided
    sides = [m.labels["content"].removeprefix("walk-") for m in test]
    assert sorted(set(sides)) == ["left", "right"]
    pairs = [p for p in PAIRS["left_right_pairs"] if p["dataset"] == "bandai-namco-1"]
    assert all(ok for p in pairs for ok in _side_first(embedder, test, sides, p))


def test_a_mirrored_library_flips_the_answer(sided):
    """The same clips mirrored (x -> -x): a walk to the front left becomes one to the front right."""
    embedder, test = sided
    mirrored = [Motion(m.name + "~mirror", mirror_joints(m.joints), m.fps) for m in test]
    sides = [{"left": "right", "right": "left"}[m.labels["content"].removeprefix("walk-")] for m in test]
    pairs = [p for p in PAIRS["left_right_pairs"] if p["dataset"] == "bandai-namco-1"]
    assert all(ok for p in pairs for ok in _side_first(embedder, mirrored, sides, p))
