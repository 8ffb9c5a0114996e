"""Validation during training: fixed queries on the validation split, a score for early stopping, and the
samples that calibration is fitted on ((cosine, match) pairs; top-1 cosines with the query's action present
and absent).

The queries are drawn once (seeded per clip): one full caption and one content-only caption per clip,
one content-only caption in wording training never uses (where the dataset has such, see
data/captions.py), and one projected video from a random camera. Text calibration uses that unseen
wording too: users do not type the templates. With several datasets joined, the score counts each
dataset's queries equally, so the one with most clips does not pick the checkpoint alone.

Videos here are projected landmarks with the noise model, not renders: validation runs every few hundred
steps and must stay cheap; `lavimo eval` uses real rendered video files.
"""

from __future__ import annotations

import numpy as np
import torch

from ..eval.protocols import label_relevance, protocol_a, protocol_b
from ..model.calibration import related_contents
from ..model.config import LavimoConfig
from ..model.lavimo import Lavimo, normalized
from ..model.padding import pad_sequences
from ..model.text_backbone import TokenFeatureCache
from ..model.windows import average_windows, split_windows
from ..motion.motion import Motion
from .clips import TrainClip, TrainingWording, clip_seed


class Validator:
    """Embeds the validation split with the current model and scores retrieval on it."""

    def __init__(self, clips: list[TrainClip], text: TokenFeatureCache, config: LavimoConfig, use_video: bool,
                 parts: list[str] | None = None):
        self.clips = clips
        # Per-dataset metrics and score only where datasets are balanced in training too (train.balance_datasets).
        balanced = config.train.balance_datasets and parts is not None and len(set(parts)) > 1
        self.parts = parts if balanced else None
        self.text = text
        self.cfg = config
        self.labels = [dict(c.views[0].labels) for c in clips]
        self.labelled = all(self.labels) and all("content" in lab for lab in self.labels)
        self.captions, self.content_captions, self.unseen_captions, self.videos = [], [], [], []
        for c in clips:
            rng = np.random.default_rng(clip_seed(config.train.seed + 1, c.name))
            v = c.views[0]
            self.captions.append(v.captions[rng.integers(len(v.captions))])
            self.content_captions.append(v.content_captions[rng.integers(len(v.content_captions))]
                                         if v.content_captions else self.captions[-1])
            if use_video:
                self.videos.append(_projected_video(c, rng, config.train.video_noise))
            self.unseen_captions.append(v.unseen_captions[rng.integers(len(v.unseen_captions))]
                                        if v.unseen_captions else self.content_captions[-1])
        self.has_unseen = any(c.views[0].unseen_captions for c in clips)

    @torch.no_grad()
    def embed(self, model: Lavimo) -> dict[str, np.ndarray]:
        """Unit embeddings of the fixed queries and of the clips: motion, text, text_content[, video]."""
        was_training = model.training
        model.eval()
        dev = next(model.parameters()).device
        step = self.cfg.train.eval_batch
        out: dict[str, list] = {"text": [], "text_content": [], "text_unseen": [], "video": []}
        # Motions as the Embedder sees them: windows of the training crop length, averaged.
        pieces, owner = split_windows([c.views[0].features for c in self.clips], self.cfg.train.crop_max_frames)
        windows = []
        for i in range(0, len(pieces), step):
            x, m = pad_sequences(pieces[i:i + step])
            windows.append(normalized(model.encode_motion(x.to(dev), m.to(dev))).cpu().numpy())
        motion = average_windows(np.concatenate(windows), owner, len(self.clips))
        for i in range(0, len(self.clips), step):
            for key, caps in (("text", self.captions), ("text_content", self.content_captions),
                              ("text_unseen", self.unseen_captions)):
                t, tm = self.text.batch(caps[i:i + step])
                out[key].append(normalized(model.encode_text(t.to(dev), tm.to(dev))))
            if self.videos:
                v, _ = pad_sequences([f for f, _ in self.videos[i:i + step]])
                p, _ = pad_sequences([p[:, None] for _, p in self.videos[i:i + step]])
                out["video"].append(normalized(model.encode_video(v.to(dev), p[..., 0].bool().to(dev))))
        model.train(was_training)
        return {"motion": motion} | {k: torch.cat(v).cpu().numpy() for k, v in out.items() if v}

    def metrics(self, model: Lavimo) -> dict[str, dict[str, float]]:
        """Retrieval metrics per direction/protocol on the validation split; with several datasets, also
        per dataset (keys "<direction>@<dataset>": that dataset's queries against the whole gallery)."""
        e = self.embed(model)
        res = {}
        if self.labelled:
            sims = {"t2m/content+style": (e["text"] @ e["motion"].T, "content+style"),
                    "t2m/content": (e["text_content"] @ e["motion"].T, "content"),
                    "m2t/content+style": (e["motion"] @ e["text"].T, "content+style")}
            if self.has_unseen:
                sims["t2m/unseen-wording"] = (e["text_unseen"] @ e["motion"].T, "content")
            if "video" in e:
                sims["v2m/content"] = (e["video"] @ e["motion"].T, "content")
                sims["m2v/content"] = (e["motion"] @ e["video"].T, "content")
            for key, (sim, level) in sims.items():
                res[key] = protocol_b(sim, self.labels, self.labels, level)
            for part in sorted(set(self.parts or [])):
                rows = [i for i, p in enumerate(self.parts) if p == part]
                for key, (sim, level) in sims.items():
                    res[f"{key}@{part}"] = protocol_b(sim[rows], [self.labels[i] for i in rows], self.labels, level)
        else:
            res["t2m/a"] = protocol_a(e["text"] @ e["motion"].T)
            res["m2t/a"] = protocol_a(e["motion"] @ e["text"].T)
            if "video" in e:
                res["v2m/a"] = protocol_a(e["video"] @ e["motion"].T)
        return res

    def score(self, metrics: dict[str, dict[str, float]]) -> float:
        """Early-stopping score: mean of (R@1 + R@3 + R@5) / 3 over the validation directions (over the
        per-dataset entries when there are such, so each dataset weighs the same)."""
        per_part = {k: m for k, m in metrics.items() if "@" in k}
        return float(np.mean([(m["R@1"] + m["R@3"] + m["R@5"]) / 3 for m in (per_part or metrics).values()]))

    def calibration_pairs(self, model: Lavimo) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(cosines, match) per query kind over all (query, validation clip) pairs; see calibration.py."""
        return self.calibration_samples(model)[0]

    def calibration_samples(self, model: Lavimo, trained: TrainingWording | None = None) -> tuple[
            dict[str, tuple[np.ndarray, np.ndarray]], dict[str, tuple[np.ndarray, np.ndarray]],
            tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
        """What calibration is fitted on, per query kind: (cosines, match) over all (query, validation clip)
        pairs, and (present, absent) top-1 cosines of the queries (leave-one-family-out); see calibration.py.
        With the training captions (`trained`), also the wording bank and its (known, unknown) nearest-caption
        cosines of the validation wording (known_wording.py)."""
        from ..model.calibration import top1_present_absent
        pairs, top1 = {}, {}
        for kind, (cos, match, related, visible) in self._similarities(model).items():
            pairs[kind] = (cos[visible], match[visible])
            top1[kind] = top1_present_absent(cos, match, related, visible)
        return pairs, top1, (self._wording_samples(model, trained) if trained is not None else None)

    def _wording_samples(self, model: Lavimo, trained: TrainingWording) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        from ..model.calibration import content_family
        from ..model.known_wording import known_unknown, thin
        queries, families = [], []
        for c in self.clips:  # wording training never used; without it there is no fair "known" sample
            for cap in c.views[0].unseen_captions:
                queries.append(cap), families.append(content_family(c.views[0].labels.get("content", "")))
        if not queries or not self.labelled:
            return None
        bank = self._embed_texts(model, trained.captions)
        keep = thin(bank)
        known, unknown = known_unknown(self._embed_texts(model, queries), families, bank[keep],
                                       [trained.families[i] for i in keep])
        return bank[keep], known, unknown

    def _similarities(self, model: Lavimo) -> dict[str, tuple[np.ndarray, ...]]:
        """Per query kind, (Q, N) arrays over the validation clips: cosine, match, related (the clips removed
        to make the query's action absent: same content family, or without labels its matches), visible."""
        e = self.embed(model)
        n = len(self.clips)
        # Text queries: in wording training never used where the dataset has it (content-only); otherwise
        # every caption of every clip, and (with labels) the content-only ones.
        caps, owner, named = [], [], []
        for i, c in enumerate(self.clips):
            if c.views[0].unseen_captions:
                for cap in c.views[0].unseen_captions:
                    caps.append(cap), owner.append(i), named.append({k: v for k, v in self.labels[i].items()
                                                                     if k in ("content", "side")})
                continue
            for cap in c.views[0].captions:
                caps.append(cap), owner.append(i), named.append(dict(self.labels[i]))
            for cap in c.views[0].content_captions:
                caps.append(cap), owner.append(i), named.append({k: v for k, v in self.labels[i].items()
                                                                 if k in ("content", "side")})
        if self.labelled:
            text_match = np.stack([label_relevance([q], self.labels, tuple(q))[0] for q in named])
            same = label_relevance(self.labels, self.labels, ("content",))
            family = related_contents(self.labels)
            text_related = family[np.asarray(owner)]
        else:
            # No labels: near-duplicate captions (frozen sentence embeddings, cosine >= epsilon) match.
            eps = self.cfg.loss.epsilon
            s_caps = self._sentences(caps)
            s_ref = self._sentences(self.captions)
            text_match = (s_caps @ s_ref.T >= eps) | (np.arange(n)[None, :] == np.asarray(owner)[:, None])
            same = family = s_ref @ s_ref.T >= eps
            text_related = text_match
        t = self._embed_texts(model, caps)
        everything = np.ones((len(caps), n), dtype=bool)
        out = {"text": (t @ e["motion"].T, text_match, text_related, everything)}
        itself = np.eye(n, dtype=bool)
        # A motion query never sees itself; "related" covers its matches and their variants (content family /
        # near-duplicates).
        out["motion"] = (e["motion"] @ e["motion"].T, same, family | itself, ~itself)
        if "video" in e:
            out["video"] = (e["video"] @ e["motion"].T, same | itself, family | itself, np.ones((n, n), dtype=bool))
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
