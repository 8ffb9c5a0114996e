import math

import pytest
import torch
import torch.nn.functional as F

from lavimo_core.model.losses import caption_positives, kl_alignment, label_positives, reconstruction_loss
from lavimo_core.model.text_backbone import mean_pool


def test_diagonal_targets_reduce_to_symmetric_infonce():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 16, generator=g), torch.randn(6, 16, generator=g)
    tau = 0.1
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / tau
    target = torch.arange(6)
    expected = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
    got = kl_alignment(a, b, torch.eye(6, dtype=torch.bool), tau)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)


def test_hand_computed_two_by_two():
    # Unit vectors: cos(a0, b0) = cos(a0, b1) = 1, cos(a1, b.) = 0; tau = 1 -> logits [[1, 1], [0, 0]].
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    pos = torch.tensor([[True, True], [False, True]])
    rows = (0.0 + math.log(2)) / 2                        # row0 target = q; row1 KL([0,1] || [.5,.5])
    e = math.e
    cols = (math.log(1 + 1 / e) + (math.log(0.5) - 0.5 + math.log(1 + e))) / 2
    assert kl_alignment(a, b, pos, tau=1.0).item() == pytest.approx(0.5 * (rows + cols), rel=1e-6)


def test_kl_is_zero_when_prediction_equals_target():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])          # identical rows: softmax is uniform
    b = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert kl_alignment(a, b, torch.ones(2, 2, dtype=torch.bool), 0.1).item() == pytest.approx(0.0, abs=1e-7)


def test_negative_filtering_uses_real_sentence_embeddings(text_backbone):
    captions = ["a person walks forward happily", "a person is walking forward happily",
                "someone kicks with the right leg", "a person bows politely"]
    feats, mask = text_backbone.token_features(captions)
    s = mean_pool(feats, mask)
    pos = caption_positives(s, s, epsilon=0.8)
    assert pos[0, 1] and pos[1, 0]                        # near-duplicates are positives
    assert not pos[0, 2] and not pos[2, 3] and not pos[0, 3]
    assert pos.diagonal().all()
    # Filtering lowers the loss of an embedding that puts the two duplicates together.
    z = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    diag = torch.eye(4, dtype=torch.bool)
    assert kl_alignment(z, z, pos, 0.1) < kl_alignment(z, z, diag, 0.1)


def test_label_positives_are_subset_matches():
    queries = [{"content": "walk"}, {"content": "walk", "style": "sad"}, {}]
    items = [{"content": "walk", "style": "happy"}, {"content": "walk", "style": "sad"}, {"content": "run", "style": "sad"}]
    got = label_positives(queries, items)
    assert got.tolist() == [[True, True, False], [False, True, False], [False, False, False]]


def test_reconstruction_ignores_padded_frames(humanml3d_features):
    x = torch.from_numpy(humanml3d_features[:100]).float()
    target = torch.stack([x, x])
    pred = target + 0.1
    mask = torch.ones(2, 100, dtype=torch.bool)
    mask[1, 60:] = False
    base = reconstruction_loss(pred, target, mask)
    pred2 = pred.clone()
    pred2[1, 60:] = 1e6                                   # garbage in the padding
    assert reconstruction_loss(pred2, target, mask).item() == pytest.approx(base.item(), rel=1e-6)
    # Smooth L1 of a constant 0.1 error is 0.5 * 0.1**2 = 0.005 on every real value.
    assert base.item() == pytest.approx(0.005, rel=1e-4)
    assert reconstruction_loss(target, target, mask).item() == 0.0
