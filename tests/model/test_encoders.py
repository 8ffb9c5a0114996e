"""Encoder behaviour on real features: masks make padding and missing frames irrelevant."""

import pytest
import torch

from lavimo_core.model.config import preset
from lavimo_core.model.errors import InputShapeError
from lavimo_core.model.lavimo import Lavimo


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = preset("tiny").model
    cfg.video_feature_dim = 12
    return Lavimo(cfg, text_dim=384).eval()


def test_motion_padding_does_not_change_the_embedding(model, humanml3d_features):
    x = torch.from_numpy(humanml3d_features).float()
    alone = model.encode_motion(x[None, :80], torch.ones(1, 80, dtype=torch.bool))
    padded = torch.cat([x[None, :80], x[None, 80:160] * 50], dim=1)   # junk after frame 80
    mask = torch.zeros(1, 160, dtype=torch.bool)
    mask[:, :80] = True
    with torch.no_grad():
        assert torch.allclose(model.encode_motion(padded, mask), alone, atol=1e-5)
        longer = model.encode_motion(x[None, :160], torch.ones(1, 160, dtype=torch.bool))
    assert not torch.allclose(longer, alone, atol=1e-3)


def test_video_missing_frames_are_ignored_whatever_they_hold(model):
    g = torch.Generator().manual_seed(1)
    v = torch.randn(1, 30, 12, generator=g)
    present = torch.rand(1, 30, generator=g) > 0.3
    with torch.no_grad():
        base = model.encode_video(v, present)
        v2 = v.clone()
        v2[~present] = float("nan")                        # what a featurizer may leave behind
        assert torch.allclose(model.encode_video(v2, present), base, atol=1e-5)
        none = model.encode_video(v, torch.zeros(1, 30, dtype=torch.bool))
    assert torch.isfinite(none).all()


def test_text_padding_does_not_change_the_embedding(model, text_backbone):
    feats, mask = text_backbone.token_features(["a person bows", "a person walks slowly in a sad way, head down"])
    with torch.no_grad():
        both = model.encode_text(feats, mask)
        alone = model.encode_text(*text_backbone.token_features(["a person bows"]))
    assert torch.allclose(both[0], alone[0], atol=1e-5)


def test_wrong_feature_dimensions_raise(model, humanml3d_features):
    x = torch.from_numpy(humanml3d_features[:, :200]).float()[None]
    with pytest.raises(InputShapeError, match="263"):
        model.encode_motion(x, torch.ones(1, x.shape[1], dtype=torch.bool))
    with pytest.raises(InputShapeError, match="12"):
        model.encode_video(torch.zeros(1, 5, 7), torch.ones(1, 5, dtype=torch.bool))


def test_bimodal_model_has_no_video_path():
    cfg = preset("bimodal").model
    m = Lavimo(cfg, text_dim=384)
    assert m.video_encoder is None and m.fusion is None
    with pytest.raises(InputShapeError, match="without video"):
        m.encode_video(torch.zeros(1, 5, 12), torch.ones(1, 5, dtype=torch.bool))
