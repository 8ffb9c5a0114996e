"""Training material per clip, prepared once: the clip and its mirror image, each with captions, labels
and precomputed projected video tracks.

Mirroring is done on the joints' features (mirror_features, exact) and on the words (mirror_caption), so
"walks to the left" on a mirrored walk-left clip becomes "walks to the right" and its content label
"walk-left" becomes "walk-right": the pair stays true.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from ..data.shared_actions import shared_labels
from ..motion.mirror import mirror_caption, mirror_features, mirror_joints
from ..motion.motion import Motion


@dataclass
class ClipView:
    """One way of seeing a clip (as recorded, or mirrored)."""

    features: np.ndarray                 # (T, 263) raw HumanML3D features
    joints: np.ndarray                   # (T+1, 22, 3) canonical joints the features came from
    captions: list[str]                  # captions naming everything the labels say
    content_captions: list[str]          # captions naming only the content ("a person walks"); may be empty
    labels: dict[str, str]               # e.g. {"content": "walk-left", "style": "sad"}; {} if unlabelled
    tracks: list = field(default_factory=list)  # projected PoseTracks, one per precomputed camera
    unseen_captions: list[str] = field(default_factory=list)  # content-only, wording never trained on


@dataclass
class TrainClip:
    """A clip of the dataset with its views: [as recorded] or [as recorded, mirrored]."""

    name: str
    views: list[ClipView]

    @property
    def frames(self) -> int:
        """Feature frames of the clip."""
        return int(self.views[0].features.shape[0])


def clip_seed(seed: int, name: str) -> int:
    """A per-clip seed that does not depend on the order clips were loaded in."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little")


def content_captions(motion: Motion) -> list[str]:
    """Captions that name only the clip's content, when the dataset can make them (Bandai-Namco 1 and 2),
    keeping only those whose left/right words are a side the clip's labels name (checked on its joints)."""
    return _dataset_captions(motion, unseen=False)


def unseen_captions(motion: Motion) -> list[str]:
    """Content-only captions in wording that training never uses (validation only), side-checked likewise."""
    return _dataset_captions(motion, unseen=True)


def _dataset_captions(motion: Motion, unseen: bool) -> list[str]:
    from ..data import bandai, bandai2
    from ..data.captions import unseen_captions as unseen_wording
    from ..motion.sides import named_sides
    content = motion.labels.get("content")
    maker = next((d for d in (bandai, bandai2) if content in d.CONTENT_PHRASES), None)
    if maker is None:
        return []
    sides = set().union(*(named_sides(v) for v in motion.labels.values()))
    captions = unseen_wording(maker.UNSEEN_PHRASES[content]) if unseen else maker.captions_for(content)
    return [c for c in captions if named_sides(c) <= sides]


def mirror_labels(labels: dict[str, str]) -> dict[str, str]:
    """Labels of the mirrored clip ("walk-left" -> "walk-right", side "right" -> "left"; styles unchanged)."""
    return {k: mirror_caption(v) if k in ("content", "side") else v for k, v in labels.items()}


def prepare_clips(motions: list[Motion], *, mirror: bool, with_content_captions: bool = True) -> list[TrainClip]:
    """Turn motions into training clips (features computed from joints where missing)."""
    from ..motion.features import joints_to_features
    clips = []
    for m in motions:
        feats = m.features if m.features is not None else joints_to_features(m.joints)
        feats = np.asarray(feats, dtype=np.float32)
        content = content_captions(m) if with_content_captions else []
        unseen = unseen_captions(m) if with_content_captions else []
        # One content name per action across datasets, so that joined datasets teach a wave as one action.
        labels = shared_labels(m.labels)
        views = [ClipView(feats, m.joints, list(m.captions), content, labels, unseen_captions=unseen)]
        if mirror:
            views.append(ClipView(mirror_features(feats), mirror_joints(m.joints),
                                  [mirror_caption(c) for c in m.captions], [mirror_caption(c) for c in content],
                                  mirror_labels(labels), unseen_captions=[mirror_caption(c) for c in unseen]))
        clips.append(TrainClip(m.name, views))
    return clips


@dataclass
class TrainingWording:
    """Every caption training may use, with the content families of the clips it describes (model/known_wording.py)."""

    captions: list[str]
    families: list[frozenset[str]]


def training_wording(clips: list[TrainClip]) -> TrainingWording:
    """The captions and content-only captions of every view of the training clips, each once, sorted."""
    from ..model.calibration import content_family
    families: dict[str, set[str]] = {}
    for clip in clips:
        for v in clip.views:
            fam = content_family(v.labels["content"]) if v.labels.get("content") else f"\0{clip.name}"
            for c in v.captions + v.content_captions:
                families.setdefault(c, set()).add(fam)
    captions = sorted(families)
    return TrainingWording(captions, [frozenset(families[c]) for c in captions])


def all_captions(clips: list[TrainClip]) -> list[str]:
    """Every caption any view may be trained or validated with."""
    return sorted({c for clip in clips for v in clip.views for c in v.captions + v.content_captions + v.unseen_captions})
