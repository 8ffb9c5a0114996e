"""Training losses: negative-filtered KL alignment between modalities, reconstruction, embedding pull.

Alignment (paper; TMR's negative filtering made a target distribution): for a batch of B pairs (a_i, b_i),
the predicted distribution of row i is softmax_j(cos(a_i, b_j) / tau); the target spreads row i
uniformly over its positives: the pair itself and every j whose caption is a near-duplicate of i's
(cosine of frozen sentence embeddings >= epsilon) or, where the data has labels, whose motion carries
every label i's caption names. The loss is KL(target || predicted), averaged over rows, taken in both
directions (a->b and b->a) and averaged. With only the diagonal as positives it reduces to InfoNCE.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def caption_positives(query_sentences: torch.Tensor, item_sentences: torch.Tensor, epsilon: float) -> torch.Tensor:
    """(B, B) bool: the diagonal, plus pairs whose L2-normalised sentence embeddings have cosine >= epsilon."""
    near = query_sentences @ item_sentences.T >= epsilon
    return near | torch.eye(near.shape[0], dtype=torch.bool, device=near.device)


def label_positives(query_labels: list[dict[str, str]], item_labels: list[dict[str, str]]) -> torch.Tensor:
    """(Q, I) bool: query i's labels (those its caption names) are all carried by item j; False if unlabelled."""
    out = torch.zeros(len(query_labels), len(item_labels), dtype=torch.bool)
    for i, q in enumerate(query_labels):
        if not q:
            continue
        for j, item in enumerate(item_labels):
            out[i, j] = all(item.get(k) == v for k, v in q.items())
    return out


def kl_alignment(a: torch.Tensor, b: torch.Tensor, positives: torch.Tensor, tau: float) -> torch.Tensor:
    """Symmetric KL(target || softmax(cos/tau)) between embeddings a (B, D) and b (B, D); positives[i, j]
    says whether b_j is a correct match for a_i (the diagonal must be True)."""
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / tau
    pos = positives.to(logits.device)
    return 0.5 * (_kl_rows(logits, pos) + _kl_rows(logits.T, pos.T))


def _kl_rows(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    target = positives.float() / positives.float().sum(1, keepdim=True)
    # KL(p || q) = sum p log p - sum p log q; terms with p = 0 contribute nothing.
    log_q = F.log_softmax(logits, dim=1)
    plogp = torch.where(positives, target * torch.log(target.clamp_min(1e-12)), torch.zeros_like(target))
    return (plogp - target * log_q).sum(1).mean()


def reconstruction_loss(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Smooth L1 between normalised features (B, T, F), averaged over the frames where mask (B, T) is True."""
    per_frame = F.smooth_l1_loss(predicted, target, reduction="none").mean(-1)
    m = mask.to(per_frame.dtype)
    return (per_frame * m).sum() / m.sum().clamp_min(1.0)


def embedding_similarity_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Smooth L1 between the L2-normalised embeddings of each pair (TMR's latent-similarity term)."""
    return F.smooth_l1_loss(F.normalize(a, dim=-1), F.normalize(b, dim=-1))
