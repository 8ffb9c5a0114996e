"""Validation during training: fixed queries on the validation split, a score for early stopping, and the
samples that calibration is fitted on ((cosine, match) pairs; top-1 cosines with the query's action present
and absent).

The queries are drawn once (seeded per clip): one full caption and one content-only caption per clip,
and one projected video from a random camera. Videos here are projected landmarks with the noise
model, not renders: validation runs every few hundred steps and must stay cheap; `lavimo eval` uses real
rendered video files.
"""

from __future__ import annotations

import numpy as np
import torch

from ..eval.protocols import label_relevance, protocol_a, protocol_b
from ..model.config import LavimoConfig
from ..model.lavimo import Lavimo, normalized
from ..model.padding import pad_sequences
from ..model.text_backbone import TokenFeatureCache
from ..model.windows import average_windows, split_windows
from ..motion.motion import Motion
from .clips import TrainClip, clip_seed


class Validator:
    """Embeds the validation split with the current model and scores retrieval on it."""

    def __init__(self, clips: list[TrainClip], text: TokenFeatureCache, config: LavimoConfig, use_video: bool):
        self.clips = clips
        self.text = text
        self.cfg = config
        self.labels = [dict(c.views[0].labels) for c in clips]
        self.labelled = all(self.labels) and all("content" in lab for lab in self.labels)
        self.captions, self.content_captions, self.videos = [], [], []
        for c in clips:
            rng = np.random.default_rng(clip_seed(config.train.seed + 1, c.name))
            v = c.views[0]
            self.captions.append(v.captions[rng.integers(len(v.captions))])
            self.content_captions.append(v.content_captions[rng.integers(len(v.content_captions))]
                                         if v.content_captions else self.captions[-1])
            if use_video:
                self.videos.append(_projected_video(c, rng, config.train.video_noise))

    @torch.no_grad()
    def embed(self, model: Lavimo) -> dict[str, np.ndarray]:
        """Unit embeddings of the fixed queries and of the clips: motion, text, text_content[, video]."""
        was_training = model.training
        model.eval()
        dev = next(model.parameters()).device
        step = self.cfg.train.eval_batch
        out: dict[str, list] = {"text": [], "text_content": [], "video": []}
        # Motions as the Embedder sees them: windows of the training crop length, averaged.
        pieces, owner = split_windows([c.views[0].features for c in self.clips], self.cfg.train.crop_max_frames)
        windows = []
        for i in range(0, len(pieces), step):
            x, m = pad_sequences(pieces[i:i + step])
            windows.append(normalized(model.encode_motion(x.to(dev), m.to(dev))).cpu().numpy())
        motion = average_windows(np.concatenate(windows), owner, len(self.clips))
        for i in range(0, len(self.clips), step):
            for key, caps in (("text", self.captions), ("text_content", self.content_captions)):
                t, tm = self.text.batch(caps[i:i + step])
                out[key].append(normalized(model.encode_text(t.to(dev), tm.to(dev))))
            if self.videos:
                v, _ = pad_sequences([f for f, _ in self.videos[i:i + step]])
                p, _ = pad_sequences([p[:, None] for _, p in self.videos[i:i + step]])
                out["video"].append(normalized(model.encode_video(v.to(dev), p[..., 0].bool().to(dev))))
        model.train(was_training)
        return {"motion": motion} | {k: torch.cat(v).cpu().numpy() for k, v in out.items() if v}

    def metrics(self, model: Lavimo) -> dict[str, dict[str, float]]:
        """Retrieval metrics per direction/protocol on the validation split."""
        e = self.embed(model)
        res = {}
        if self.labelled:
            res["t2m/content+style"] = protocol_b(e["text"] @ e["motion"].T, self.labels, self.labels, "content+style")
            res["t2m/content"] = protocol_b(e["text_content"] @ e["motion"].T, self.labels, self.labels, "content")
            res["m2t/content+style"] = protocol_b(e["motion"] @ e["text"].T, self.labels, self.labels, "content+style")
            if "video" in e:
                res["v2m/content"] = protocol_b(e["video"] @ e["motion"].T, self.labels, self.labels, "content")
                res["m2v/content"] = protocol_b(e["motion"] @ e["video"].T, self.labels, self.labels, "content")
        else:
            res["t2m/a"] = protocol_a(e["text"] @ e["motion"].T)
            res["m2t/a"] = protocol_a(e["motion"] @ e["text"].T)
            if "video" in e:
                res["v2m/a"] = protocol_a(e["video"] @ e["motion"].T)
        return res

    def score(self, metrics: dict[str, dict[str, float]]) -> float:
        """Early-stopping score: mean of (R@1 + R@3 + R@5) / 3 over the validation directions."""
        return float(np.mean([(m["R@1"] + m["R@3"] + m["R@5"]) / 3 for m in metrics.values()]))

    def calibration_pairs(self, model: Lavimo) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(cosines, match) per query kind over all (query, validation clip) pairs; see calibration.py."""
        return self.calibration_samples(model)[0]

    def calibration_samples(self, model: Lavimo) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]],
                                                           dict[str, tuple[np.ndarray, np.ndarray]]]:
        """What calibration is fitted on, per query kind: (cosines, match) over all (query, validation clip)
        pairs, and (present, absent) top-1 cosines of the queries (leave-one-content-out); see calibration.py."""
        from ..model.calibration import top1_present_absent
        pairs, top1 = {}, {}
        for kind, (cos, match, related, visible) in self._similarities(model).items():
            pairs[kind] = (cos[visible], match[visible])
            top1[kind] = top1_present_absent(cos, match, related, visible)
        return pairs, top1

    def _similarities(self, model: Lavimo) -> dict[str, tuple[np.ndarray, ...]]:
        """Per query kind, (Q, N) arrays over the validation clips: cosine, match, related (the clips removed
        to make the query's action absent: same content, or without labels its matches), visible."""
        e = self.embed(model)
        n = len(self.clips)
        # Text queries: every caption of every clip, and (with labels) the content-only ones.
        caps, owner, named = [], [], []
        for i, c in enumerate(self.clips):
            for cap in c.views[0].captions:
                caps.append(cap), owner.append(i), named.append(dict(self.labels[i]))
            for cap in c.views[0].content_captions:
                caps.append(cap), owner.append(i), named.append({k: v for k, v in self.labels[i].items()
                                                                 if k in ("content", "side")})
        if self.labelled:
            text_match = np.stack([label_relevance([q], self.labels, tuple(q))[0] for q in named])
            same = label_relevance(self.labels, self.labels, ("content",))
            text_related = same[np.asarray(owner)]
        else:
            # No labels: near-duplicate captions (frozen sentence embeddings, cosine >= epsilon) match.
            eps = self.cfg.loss.epsilon
            s_caps = self._sentences(caps)
            s_ref = self._sentences(self.captions)
            text_match = (s_caps @ s_ref.T >= eps) | (np.arange(n)[None, :] == np.asarray(owner)[:, None])
            same = s_ref @ s_ref.T >= eps
            text_related = text_match
        t = self._embed_texts(model, caps)
        everything = np.ones((len(caps), n), dtype=bool)
        out = {"text": (t @ e["motion"].T, text_match, text_related, everything)}
        itself = np.eye(n, dtype=bool)
        # A motion query never sees itself; "related" covers its matches (same content / near-duplicates).
        out["motion"] = (e["motion"] @ e["motion"].T, same, same | itself, ~itself)
        if "video" in e:
            out["video"] = (e["video"] @ e["motion"].T, same | itself, same | itself, np.ones((n, n), dtype=bool))
        return out

    def _sentences(self, captions: list[str]) -> np.ndarray:
        from ..model.text_backbone import mean_pool
        feats, mask = self.text.batch(captions)
        return mean_pool(feats, mask).numpy()

    @torch.no_grad()
    def _embed_texts(self, model: Lavimo, captions: list[str]) -> np.ndarray:
        model.eval()
        dev = next(model.parameters()).device
        out = []
        for i in range(0, len(captions), self.cfg.train.eval_batch):
            t, tm = self.text.batch(captions[i:i + self.cfg.train.eval_batch])
            out.append(normalized(model.encode_text(t.to(dev), tm.to(dev))))
        return torch.cat(out).cpu().numpy()


def _projected_video(clip: TrainClip, rng: np.random.Generator, noise: bool) -> tuple[np.ndarray, np.ndarray]:
    from ..synthesis.projected import motion_to_video_features
    from ..synthesis.render import random_camera
    v = clip.views[0]
    feats = motion_to_video_features(Motion(clip.name, v.joints), random_camera(rng), rng, noise=noise)
    return feats.features, feats.present
