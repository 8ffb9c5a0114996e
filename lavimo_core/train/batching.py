"""Build augmented training batches: random crop, mirror, caption choice, random camera, dropped frames.

Everything random comes from the numpy Generator handed in, which the loop seeds from (seed, step,
rank), or from per-clip seeds (the video bank): a batch is a pure function of its step, so a resumed
run sees exactly the batches a straight run would have seen.
"""

from __future__ import annotations

import numpy as np
import torch

from ..model.config import LavimoConfig
from ..model.lavimo import Batch
from ..model.losses import caption_positives, label_positives
from ..model.padding import pad_sequences as pad
from ..model.text_backbone import TokenFeatureCache
from ..motion.motion import Motion
from .clips import ClipView, TrainClip, clip_seed


class BatchMaker:
    """Turns clip indices + a Generator into a `Batch` (see Batch for the tensors)."""

    def __init__(self, clips: list[TrainClip], text: TokenFeatureCache, config: LavimoConfig, use_video: bool,
                 seed: int = 0, progress: bool = False):
        self.seed = seed
        self.clips = clips
        self.text = text
        self.cfg = config.train
        self.loss = config.loss
        self.use_video = use_video
        self.sentence = text.sentence_embeddings()
        self.bank = self._video_bank(progress) if use_video and self.cfg.video_bank > 0 else None

    def make(self, indices: list[int], rng: np.random.Generator) -> Batch:
        """One batch of the clips at `indices`."""
        motions, texts, refs, text_labels, item_labels, videos = [], [], [], [], [], []
        for i in indices:
            clip = self.clips[i]
            v = 1 if len(clip.views) > 1 and rng.random() < self.cfg.mirror_prob else 0
            view = clip.views[v]
            if self.bank is not None:
                start, length, video_feats, present = self.bank[i][v][rng.integers(len(self.bank[i][v]))]
            else:
                start, length = self._crop(clip.frames, rng)
            motions.append(view.features[start:start + length])
            if view.content_captions and rng.random() < self.cfg.content_only_prob:
                texts.append(view.content_captions[rng.integers(len(view.content_captions))])
                # A content caption may name the side ("raises the right hand and waves bye"): keep it.
                text_labels.append({k: v for k, v in view.labels.items() if k in ("content", "side")})
            else:
                texts.append(view.captions[rng.integers(len(view.captions))])
                text_labels.append(dict(view.labels))
            refs.append(view.captions[rng.integers(len(view.captions))])
            item_labels.append(dict(view.labels))
            if self.use_video:
                if self.bank is None:
                    video_feats, present = self._video(clip.name, view, start, length, rng)
                dropped = rng.random(present.shape[0]) < self.cfg.frame_drop_prob
                videos.append((video_feats, present & ~dropped))
        motion, motion_mask = pad(motions)
        text, text_mask = self.text.batch(texts)
        s_text = torch.stack([self.sentence[t] for t in texts])
        s_ref = torch.stack([self.sentence[t] for t in refs])
        tm = caption_positives(s_text, s_ref, self.loss.epsilon)
        mm = caption_positives(s_ref, s_ref, self.loss.epsilon)
        if self.loss.label_positives:
            tm |= label_positives(text_labels, item_labels)
            mm |= label_positives(item_labels, item_labels)
        batch = Batch(motion, motion_mask, text, text_mask, tm, mm)
        if self.use_video:
            batch.video, _ = pad([v[0] for v in videos])
            batch.video_present = pad([v[1][:, None] for v in videos])[0][..., 0].bool()
        return batch

    def _crop(self, frames: int, rng: np.random.Generator) -> tuple[int, int]:
        hi = min(self.cfg.crop_max_frames, frames)
        lo = min(self.cfg.crop_min_frames, hi)
        length = int(rng.integers(lo, hi + 1))
        return int(rng.integers(0, frames - length + 1)), length

    def _video(self, name: str, view: ClipView, start: int, length: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Pose features of the cropped view as a camera would see it: projected, or a cached render."""
        from ..synthesis.projected import motion_to_video_features
        from ..synthesis.render import random_camera
        from ..video.features import VIDEO_FPS, VideoFeatures
        if view.tracks and rng.random() < self.cfg.rendered_prob:
            track, version = view.tracks[rng.integers(len(view.tracks))]
            # Feature frame t spans joints t..t+1 at 20 fps; the track samples joints at VIDEO_FPS.
            step = 20.0 / VIDEO_FPS
            a, b = int(np.ceil(start / step)), int(np.ceil((start + length) / step))
            feats = VideoFeatures.from_track(crop_track(track, a, max(b, a + 1)), version, name)
        else:
            joints = view.joints[start:start + length + 1]
            capture = None
            if self.cfg.video_randomize:
                from ..synthesis.capture import random_capture
                capture = random_capture(rng, self.cfg.video_in_place_prob, self.cfg.video_zoom_prob)
                camera = random_camera(rng, capture.size, capture.fill)
            else:
                camera = random_camera(rng)
            feats = motion_to_video_features(Motion(name, joints), camera, rng, noise=self.cfg.video_noise,
                                             capture=capture)
        return feats.features, feats.present

    def _video_bank(self, progress: bool) -> list[list[list]]:
        """Per clip and view, `video_bank` (start, length, features, present) with their own crop and camera."""
        from tqdm import tqdm
        bank = []
        for clip in tqdm(self.clips, desc="video views", disable=not progress, leave=False):
            per_view = []
            for v, view in enumerate(clip.views):
                rng = np.random.default_rng(clip_seed(self.seed * 31 + v, clip.name))
                entries = []
                for _ in range(self.cfg.video_bank):
                    start, length = self._crop(clip.frames, rng)
                    entries.append((start, length, *self._video(clip.name, view, start, length, rng)))
                per_view.append(entries)
            bank.append(per_view)
        return bank


def crop_track(track, a: int, b: int):
    """Frames [a, b) of a PoseTrack."""
    from ..video.track import PoseTrack
    return PoseTrack(track.image[a:b], track.world[a:b], track.visibility[a:b], track.present[a:b],
                     track.size, track.fps)
