"""The inference facade on the real tiny model trained on Bandai-Namco-1 (the `trained_model` fixture)."""

import json
import shutil

import numpy as np
import pytest

from lavimo_core.model.embedder import Embedder
from lavimo_core.model.errors import InputShapeError, TextModelError
from lavimo_core.model.text_backbone import file_sha256
from lavimo_core.model.windows import split_windows


@pytest.fixture(scope="module")
def bandai():
    from lavimo_core.data import load_dataset
    return load_dataset("bandai-namco-1")


def test_identity_and_shapes(embedder, trained_model, bandai):
    assert embedder.weights_hash == file_sha256(trained_model / "model.safetensors")
    assert embedder.model_id.startswith("lavimo-tiny-") and embedder.dim == 64
    t = embedder.embed_text(["a person bows politely", "someone walks backwards sadly"])
    m = embedder.embed_motion(bandai.motions[:5])
    for x, n in ((t, 2), (m, 5)):
        assert x.shape == (n, embedder.dim) and x.dtype == np.float32
        assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    assert embedder.embed_text([]).shape == (0, embedder.dim)


def test_batching_and_missing_features_do_not_change_embeddings(embedder, bandai):
    import dataclasses
    motions = bandai.motions[:6]
    together = embedder.embed_motion(motions)
    alone = np.concatenate([embedder.embed_motion([m]) for m in motions])
    assert np.allclose(together, alone, atol=1e-5)
    bare = dataclasses.replace(motions[0], features=None)       # features computed from the joints
    assert np.allclose(embedder.embed_motion([bare]), together[:1], atol=1e-4)


def test_text_finds_the_right_content(embedder, bandai):
    test = [bandai.motions[i] for i in bandai.splits["test"]]
    m = embedder.embed_motion(test)
    contents = np.array([x.labels["content"] for x in test])
    for query, content in (("a person bows", "bow"), ("someone walks backwards", "walk-back"),
                           ("a person waves goodbye with both hands", "byebye")):
        sim = embedder.embed_text([query]) @ m.T
        # Trained on other clips: the best-scoring clip of the right content beats the median of the rest.
        assert sim[0, contents == content].max() > np.median(sim[0, contents != content])


def test_long_motions_are_embedded_in_windows(embedder, bandai):
    dance = next(m for m in bandai.motions if m.labels["content"].startswith("dance"))
    assert dance.features.shape[0] > 3 * embedder.window_frames
    e = embedder.embed_motion([dance])
    assert e.shape == (1, embedder.dim) and np.isfinite(e).all()
    pieces, owner = split_windows([np.zeros((250, 1))], 120)
    assert [len(p) for p in pieces] == [120, 120, 120, 120] and owner.tolist() == [0, 0, 0, 0]


def test_calibration_covers_every_query_kind(embedder):
    cal = embedder.calibration
    for kind in ("text", "video", "motion"):
        p = cal.probability(kind, np.linspace(-1, 1, 21))
        assert np.all(np.diff(p) >= 0) and 0 <= p.min() and p.max() <= 1
        assert -1 <= cal.no_match_below[kind] <= 1


def test_wrong_feature_dimensions(embedder):
    with pytest.raises(InputShapeError, match="263"):
        embedder.embed_motion_features([np.zeros((30, 200), np.float32)])
    with pytest.raises(InputShapeError, match="frames >= 1"):
        embedder.embed_motion_features([np.zeros((0, 263), np.float32)])

    class Fake:
        features, present, source = np.zeros((10, 5), np.float32), np.ones(10, bool), "clip.mp4"
    with pytest.raises(InputShapeError, match="clip.mp4"):
        embedder.embed_video([Fake()])


def test_a_different_text_model_is_refused(trained_model, tmp_path):
    copy = tmp_path / "ckpt"
    shutil.copytree(trained_model, copy)
    meta = json.loads((copy / "checkpoint.json").read_text())
    meta["text_model"]["sha256"] = "f" * 64
    (copy / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(TextModelError, match="trained with text model"):
        Embedder.from_checkpoint(copy).embed_text(["a person bows"])
