"""Bandai-Namco-Research-Motiondataset-1: content/style labels, natural captions, a deterministic split.

Captions describe what the clips show (checked on the joint trajectories, not only the label names):
bye = one (right) hand raised to chest height, waving; byebye = both hands raised to face height,
waving; guide = the right arm extends forward-inward with an open hand, showing the way; respond =
the left hand goes up above the head, leaning in (answering "here!"); call = leaning far forward,
hands towards the face, calling out; punch = jabs from a raised guard; kick = high kicks with the
right leg (ankle ~1 m up); slash = both hands together on a sword, three big swings with a step in;
dance-short = a 60 s dance (kicks, arm swings, one drop to the floor) after ~8 s standing still;
walk-left/right = walking diagonally forward-left/right (~35-50 degrees) while facing ahead.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..motion.motion import Motion
from ..motion.sides import dominant_hand, kicking_leg, named_sides
from .bvh_dataset import HOLDOUT, load_bvh_dataset
from .captions import template_captions
from .dataset import DatasetError, MotionDataset

NAME = "bandai-namco-1"
LICENSE = "CC BY-NC 4.0"
ATTRIBUTION = ("Bandai-Namco-Research-Motiondataset-1, (c) 2022 Bandai Namco Research Inc., "
               "https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset "
               "(Kobayashi et al., arXiv:2306.08861, 2023)")

# Verb phrases per content (third person, after a subject).
CONTENT_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("walks forward", "walks straight ahead", "takes a walk forward", "walks", "strolls forward",
             "walks at an ordinary pace"),
    "run": ("runs forward", "jogs forward", "runs ahead at a steady pace", "runs", "is running forward"),
    "dash": ("sprints forward", "dashes forward", "runs forward as fast as they can", "sprints",
             "races forward at full speed"),
    "walk-back": ("walks backwards", "walks backward step by step", "moves backwards on foot", "backs up",
                  "steps backwards"),
    "walk-left": ("walks diagonally forward to the left", "walks forward and to the left",
                  "walks towards the front left", "heads off diagonally to the left",
                  "walks ahead while veering left"),
    "walk-right": ("walks diagonally forward to the right", "walks forward and to the right",
                   "walks towards the front right", "heads off diagonally to the right",
                   "walks ahead while veering right"),
    "bow": ("bows", "bows politely", "bends forward at the waist in a bow", "takes a bow", "gives a respectful bow"),
    "bye": ("waves goodbye with one hand", "raises the right hand and waves bye",
            "waves a hand to say goodbye", "waves farewell with the right hand", "waves bye"),
    "byebye": ("waves goodbye with both hands", "raises both hands and waves them side to side",
               "waves bye-bye with both arms", "waves both arms to say goodbye",
               "says goodbye waving both hands high"),
    "guide": ("shows the way with the right hand", "gestures forward with an open hand to guide someone",
              "points the way with the right arm", "points the direction with the right hand",
              "directs someone forward with an open palm"),
    "respond": ("raises the left hand high to answer", "puts a hand up above the head as if answering a call",
                "raises a hand to respond", "raises the left hand above the head", "puts a hand up to answer"),
    "call": ("calls out to someone, leaning forward", "leans forward and shouts to someone far away",
             "calls someone with the hands near the mouth", "shouts to someone in the distance",
             "cups the hands around the mouth and calls out"),
    "punch": ("throws punches", "punches from a fighting stance", "throws quick jabs with the fists raised",
              "punches", "throws a series of punches"),
    "kick": ("kicks", "kicks high with the right leg", "does high kicks with the right foot",
             "kicks with the right leg", "does a series of high kicks"),
    "slash": ("slashes with a sword held in both hands", "swings a sword with both hands",
              "steps in and cuts with a two-handed sword", "cuts with a sword", "swings a two-handed sword"),
    "dance-short": ("dances", "performs an energetic dance", "dances with big arm swings and kicks",
                    "does a dance", "breaks into a dance"),
    "dance-long": ("dances", "performs a long dance routine", "dances with big arm swings and kicks",
                   "does a dance", "breaks into a dance"),
}
# Phrasings training never sees: validation scores and calibrates free wording on them (see captions.py).
UNSEEN_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("is walking along", "moves forward on foot",
             "heads down the street at an easy pace", "takes a stroll to the corner shop"),
    "run": ("goes for a jog", "is jogging",
            "jogs around the park for exercise", "trots along at a comfortable speed"),
    "dash": ("makes a fast dash", "is sprinting at top speed",
             "bolts forward as fast as they can", "races to catch a bus"),
    "walk-back": ("walks in reverse", "is backing away",
                  "retreats step by step without turning around", "steps back away from something"),
    "walk-left": ("walks on a diagonal towards the left", "goes forward and to their left",
                  "cuts across towards the left side", "drifts off to the left while moving ahead"),
    "walk-right": ("walks on a diagonal towards the right", "goes forward and to their right",
                   "cuts across towards the right side", "drifts off to the right while moving ahead"),
    "bow": ("bows the head and upper body", "does a polite bow",
            "bends at the waist to greet a guest", "bows in thanks after a performance"),
    "bye": ("waves the right hand to say bye", "gives a goodbye wave",
            "waves the right hand to a friend leaving", "flicks a quick farewell wave"),
    "byebye": ("waves goodbye using both hands", "waves with two hands",
               "waves both arms to see off a train", "waves farewell with both hands above the head"),
    "guide": ("shows someone where to go with the right hand", "motions the way forward with one arm",
              "points the way with the right hand like an usher", "shows a visitor the direction to go"),
    "respond": ("raises the left arm to reply", "answers by putting a hand up",
                "puts the left hand up when their name is called", "signals 'here' with a hand in the air"),
    "call": ("calls to somebody far away", "yells out, leaning forward",
             "shouts for someone across a field", "hollers to a friend, bending forward"),
    "punch": ("is shadowboxing", "is boxing",
              "spars with quick jabs", "throws fists at an imaginary opponent"),
    "kick": ("kicks the right foot up high", "does high kicks",
             "kicks the right leg up at head height", "snaps high kicks in a martial arts drill"),
    "slash": ("attacks with a sword in both hands", "swings a blade",
              "fights with a two-handed sword", "cuts down with a katana"),
    "dance-short": ("is dancing", "dances to music",
                    "grooves to a song with big arm moves", "performs a lively dance routine"),
    "dance-long": ("is dancing", "dances to music",
                   "grooves to a song with big arm moves", "performs a lively dance routine"),
}
# Style as phrases after the verb, and as adjectives before "person" (None: no adjective form).
STYLE_PHRASES: dict[str, tuple[str, ...]] = {
    "normal": ("", "in a normal way", "in a neutral manner"),
    "happy": ("happily", "looking happy", "cheerfully"),
    "sad": ("sadly", "looking sad", "with a sad, downcast air"),
    "angry": ("angrily", "looking angry", "in an angry way"),
    "proud": ("proudly", "looking proud", "with a proud, chest-out posture"),
    "not-confident": ("timidly", "without confidence", "hesitantly, lacking confidence"),
    "masculinity": ("in a masculine way", "with a manly attitude", "in a very masculine style"),
    "feminine": ("in a feminine way", "gracefully, in a feminine style", "with feminine gestures"),
    "childish": ("like a child", "in a childish way", "playfully like a little kid"),
    "old": ("like an elderly person", "with the slow, stiff movements of an old person", "slowly, like an old person"),
    "tired": ("wearily", "looking tired", "like someone exhausted"),
    "active": ("energetically", "in a lively, active way", "vigorously"),
    "musical": ("theatrically, like in a musical", "rhythmically, like a musical performer",
                "with showy musical-theatre flair"),
    "giant": ("like a giant", "with heavy, lumbering movements like a giant", "like a huge, heavy giant"),
    "chimpira": ("like a thug", "with a street punk's swagger", "like a small-time hoodlum"),
}
STYLE_ADJECTIVES: dict[str, str | None] = {
    "normal": None, "happy": "happy", "sad": "sad", "angry": "angry", "proud": "proud",
    "not-confident": "timid", "masculinity": "macho", "feminine": None, "childish": "childish",
    "old": "old", "tired": "tired", "active": "energetic", "musical": None, "giant": None, "chimpira": None,
}
# One-sided contents: (limb, the performer's side), checked on each clip's joints. A clip whose joints do
# not show it gets no "side" label and keeps only the captions that name no side.
SIDED: dict[str, tuple[str, str]] = {"bye": ("hand", "right"), "guide": ("hand", "right"),
                                     "respond": ("hand", "left"), "kick": ("leg", "right")}


def shown_side(motion: Motion, content: str) -> str | None:
    """The side of a one-sided content as the joints show it (None: not one-sided, or not clear)."""
    if content not in SIDED:
        return None
    limb, _ = SIDED[content]
    return dominant_hand(motion.joints) if limb == "hand" else kicking_leg(motion.joints)


def captions_for(content: str, style: str | None = None, rng: np.random.Generator | None = None,
                 *, name_sides: bool = True) -> list[str]:
    """Natural captions for a content (and style; None: captions that mention the content only).

    Without `rng` the list is fixed; with it, phrasings are drawn at random (for training-time variety).
    `name_sides=False` keeps only phrasings without "left"/"right" (a clip whose side is not clear).
    """
    if content not in CONTENT_PHRASES:
        raise KeyError(f"unknown Bandai-Namco content {content!r}; known: {sorted(CONTENT_PHRASES)}")
    if style is not None and style not in STYLE_PHRASES:
        raise KeyError(f"unknown Bandai-Namco style {style!r}; known: {sorted(STYLE_PHRASES)}")
    verbs = CONTENT_PHRASES[content]
    if not name_sides:
        verbs = tuple(v for v in verbs if not named_sides(v)) or verbs
    return template_captions(verbs, None if style is None else STYLE_PHRASES[style],
                             None if style is None else STYLE_ADJECTIVES[style], rng)


def parse_name(stem: str) -> tuple[str, str]:
    """(content, style) from a file stem `dataset-1_{content}_{style}_{id}`."""
    parts = stem.split("_")
    if len(parts) != 4 or parts[1] not in CONTENT_PHRASES or parts[2] not in STYLE_PHRASES:
        raise DatasetError(f"{stem}: not a Bandai-Namco clip name (dataset-1_<content>_<style>_<id>).")
    return parts[1], parts[2]


def split_by_content(names: list[str], contents: list[str], holdout: float = HOLDOUT) -> dict[str, list[int]]:
    """Deterministic split stratified by content: within each content, clips ordered by sha256 of the name;
    round(holdout*n) go to test, as many to val, the rest to train. Contents with fewer than 3 clips
    (the normal-only ones: call, punch, slash, kick, respond, dance-short) go to train whole, so that
    every content in val/test is also in train."""
    splits: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for content in sorted(set(contents)):
        idx = sorted((i for i, c in enumerate(contents) if c == content),
                     key=lambda i: hashlib.sha256(names[i].encode()).hexdigest())
        k = int(holdout * len(idx) + 0.5) if len(idx) >= 3 else 0
        splits["test"] += idx[:k]
        splits["val"] += idx[k:2 * k]
        splits["train"] += idx[2 * k:]
    return {s: sorted(v) for s, v in splits.items()}


def _labels_from_json(path: Path, contents: list[str], styles: list[str]) -> tuple[str, str] | None:
    try:
        d = json.loads(path.read_text())
        return contents[d["content"]], styles[d["style"]]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def load_bandai(root: str | Path, *, use_cache: bool = True, progress: bool = False) -> MotionDataset:
    """The Bandai-Namco-1 dataset at `root` (cfg/, data/*.bvh) with labels, captions and split."""
    root = Path(root)
    try:
        cfg_contents = [l.strip().removeprefix("dataset-1_") for l in (root / "cfg" / "content_label.txt").read_text().split()]
        cfg_styles = [l.strip().removeprefix("dataset-1_") for l in (root / "cfg" / "style_label.txt").read_text().split()]
    except OSError as exc:
        raise DatasetError(f"{root}: cannot read cfg/content_label.txt or cfg/style_label.txt ({exc}).") from exc
    files = sorted((root / "data").glob("*.bvh"))
    if not files:
        raise DatasetError(f"{root / 'data'}: no .bvh files; is this the Bandai-Namco-1 dataset folder?")

    def decorate(m: Motion, f: Path) -> None:
        content, style = parse_name(f.stem)
        side = _labels_from_json(f.with_suffix(".json"), cfg_contents, cfg_styles)
        if side is not None and side != (content, style):
            raise DatasetError(f"{f.with_suffix('.json')}: labels {side} disagree with the file name.")
        m.labels = {"content": content, "style": style}
        seed = int(hashlib.sha256(m.name.encode()).hexdigest()[:16], 16)
        sided = content in SIDED and shown_side(m, content) == SIDED[content][1]
        if sided:
            m.labels["side"] = SIDED[content][1]
        m.captions = captions_for(content, style, np.random.default_rng(seed), name_sides=sided or content not in SIDED)
        m.source.license = LICENSE
        m.source.attribution = ATTRIBUTION

    return load_bvh_dataset(NAME, root, files, decorate=decorate,
                            split=lambda ms: split_by_content([m.name for m in ms],
                                                              [m.labels["content"] for m in ms]),
                            license=LICENSE, attribution=ATTRIBUTION, use_cache=use_cache, progress=progress)
