"""Bandai-Namco-Research-Motiondataset-2 read from its archive (bvh.tar.xz): labels from file names,
captions whose hand and turn direction are checked on the joints, a deterministic split.

The archive is unpacked once into the cache (keyed by its sha256); clips then go through the same
cached conversion as every BVH dataset. Contents: walk, walk-turn-left/right, run, wave-both/left/
right-hand, raise-up-both/left/right-hand; styles: active, elderly, exhausted, feminine, masculine,
normal, youthful. "left"/"right" in a label is the performer's own side (checked: the raised wrist
lies on the up x forward side of the body, a left turn rotates the feet counterclockwise seen from
above); a clip whose joints disagree with its label is skipped and reported, never mis-captioned.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from ..motion.motion import Motion
from ..motion.sides import raised_hands, turn_side
from ..paths import cache_dir
from .bandai import split_by_content
from .bvh_dataset import load_bvh_dataset
from .cache import file_sha256
from .captions import template_captions
from .dataset import DatasetError, MotionDataset

NAME = "bandai-namco-2"
ARCHIVE = "bvh.tar.xz"
PREFIX = "dataset-2_"
LICENSE = "CC BY-NC 4.0"
ATTRIBUTION = ("Bandai-Namco-Research-Motiondataset-2, (c) 2022 Bandai Namco Research Inc., "
               "https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset "
               "(Kobayashi et al., arXiv:2306.08861, 2023)")

CONTENT_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("walks forward", "walks straight ahead", "takes a few steps forward", "walks", "strolls forward",
             "walks at an ordinary pace"),
    "walk-turn-left": ("walks and turns to the left", "walks forward, then turns left",
                       "turns to their left while walking", "walks and makes a left turn",
                       "walks and veers to the left"),
    "walk-turn-right": ("walks and turns to the right", "walks forward, then turns right",
                        "turns to their right while walking", "walks and makes a right turn",
                        "walks and veers to the right"),
    # Many run takes curve (a third turn over 45 degrees either way), so no "forward"/"straight".
    "run": ("runs", "jogs", "runs along at a steady pace", "is running", "jogs along"),
    "wave-both-hands": ("waves both hands", "waves with both arms raised", "raises both hands and waves",
                        "waves with both hands", "waves hello with both hands"),
    "wave-left-hand": ("waves the left hand", "waves with the left hand", "raises the left hand and waves",
                       "waves hello with the left hand", "lifts the left hand and waves it"),
    "wave-right-hand": ("waves the right hand", "waves with the right hand", "raises the right hand and waves",
                        "waves hello with the right hand", "lifts the right hand and waves it"),
    "raise-up-both-hands": ("raises both hands", "puts both hands up", "lifts both arms up high",
                            "raises both arms over the head", "puts both arms up in the air"),
    "raise-up-left-hand": ("raises the left hand", "puts the left hand up", "lifts the left arm up",
                           "raises the left arm", "puts the left arm up in the air"),
    "raise-up-right-hand": ("raises the right hand", "puts the right hand up", "lifts the right arm up",
                            "raises the right arm", "puts the right arm up in the air"),
}
# Phrasings training never sees: validation scores and calibrates free wording on them (see captions.py).
UNSEEN_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("is walking along", "moves forward on foot",
             "heads down the street at an easy pace", "takes a stroll to the corner shop"),
    "walk-turn-left": ("walks, then heads off to the left", "changes direction to the left as they walk",
                       "walks ahead and then swings round to the left", "takes a left while walking"),
    "walk-turn-right": ("walks, then heads off to the right", "changes direction to the right as they walk",
                        "walks ahead and then swings round to the right", "takes a right while walking"),
    "run": ("goes for a jog", "is jogging",
            "jogs around the park for exercise", "trots along at a comfortable speed"),
    "wave-both-hands": ("waves using both hands", "waves two hands in the air",
                        "waves both arms to get attention", "waves both hands over the head at a concert"),
    "wave-left-hand": ("gives a wave with the left hand", "waves their left hand",
                       "waves the left hand to a friend", "greets someone with a left-handed wave"),
    "wave-right-hand": ("gives a wave with the right hand", "waves their right hand",
                        "waves the right hand to a friend", "greets someone with a right-handed wave"),
    "raise-up-both-hands": ("holds both hands up", "lifts both arms",
                            "throws both arms up in the air", "puts both hands up as if cheering"),
    "raise-up-left-hand": ("holds the left hand up", "lifts their left arm",
                           "puts the left hand up to ask a question", "reaches the left arm up high"),
    "raise-up-right-hand": ("holds the right hand up", "lifts their right arm",
                            "puts the right hand up to ask a question", "reaches the right arm up high"),
}
STYLE_PHRASES: dict[str, tuple[str, ...]] = {
    "normal": ("", "in a normal way", "in a neutral manner"),
    "active": ("energetically", "in a lively, active way", "vigorously"),
    "elderly": ("like an elderly person", "slowly, like an old person", "with the stiff movements of an old person"),
    "exhausted": ("wearily", "looking exhausted", "like someone worn out"),
    "feminine": ("in a feminine way", "gracefully, in a feminine style", "with feminine gestures"),
    "masculine": ("in a masculine way", "with a manly attitude", "in a very masculine style"),
    "youthful": ("youthfully", "like a young person", "with youthful energy"),
}
STYLE_ADJECTIVES: dict[str, str | None] = {
    "normal": None, "active": "energetic", "elderly": "elderly", "exhausted": "exhausted", "feminine": None,
    "masculine": "macho", "youthful": "young",
}
# What the joints must show for each content: (raised hands, turn side); None = not checked.
EXPECTED_SIDES: dict[str, tuple[str | None, str | None]] = {
    "wave-both-hands": ("both", None), "wave-left-hand": ("left", None), "wave-right-hand": ("right", None),
    "raise-up-both-hands": ("both", None), "raise-up-left-hand": ("left", None),
    "raise-up-right-hand": ("right", None), "walk-turn-left": (None, "left"), "walk-turn-right": (None, "right"),
}


def captions_for(content: str, style: str | None = None, rng: np.random.Generator | None = None) -> list[str]:
    """Natural captions for a content (and style; None: content only); fixed without `rng`, drawn with it."""
    if content not in CONTENT_PHRASES:
        raise KeyError(f"unknown Bandai-Namco-2 content {content!r}; known: {sorted(CONTENT_PHRASES)}")
    if style is not None and style not in STYLE_PHRASES:
        raise KeyError(f"unknown Bandai-Namco-2 style {style!r}; known: {sorted(STYLE_PHRASES)}")
    return template_captions(CONTENT_PHRASES[content], None if style is None else STYLE_PHRASES[style],
                             None if style is None else STYLE_ADJECTIVES[style], rng)


def parse_name(stem: str) -> tuple[str, str]:
    """(content, style) from a file stem `dataset-2_{content}_{style}_{id}`."""
    parts = stem.split("_")
    if len(parts) != 4 or parts[0] != PREFIX[:-1] or parts[1] not in CONTENT_PHRASES or parts[2] not in STYLE_PHRASES:
        raise DatasetError(f"{stem}: not a Bandai-Namco-2 clip name (dataset-2_<content>_<style>_<id>).")
    return parts[1], parts[2]


def check_sides(motion: Motion, content: str) -> None:
    """Raise DatasetError when the joints do not show the hand / turn direction that `content` names."""
    hands, turn = EXPECTED_SIDES.get(content, (None, None))
    if hands is not None and (seen := raised_hands(motion.joints)) != hands:
        raise DatasetError(f"{motion.name}: labelled {content!r} but the joints raise {seen or 'no'} hand(s); "
                           "left out rather than captioned wrongly.")
    if turn is not None and (seen := turn_side(motion.joints)) != turn:
        raise DatasetError(f"{motion.name}: labelled {content!r} but the joints turn {seen or 'less than 45 degrees'}; "
                           "left out rather than captioned wrongly.")


def is_bandai2(path: Path) -> bool:
    """Whether `path` is the Bandai-Namco-2 folder (bvh.tar.xz + content_label.txt of dataset-2)."""
    labels = path / "content_label.txt"
    return (path / ARCHIVE).is_file() and labels.is_file() and PREFIX in labels.read_text(errors="replace")


def unpack_archive(archive: Path) -> Path:
    """The archive's .bvh files unpacked into the cache (once per archive content); returns their folder."""
    digest = file_sha256(archive)
    out = cache_dir("import", "archives") / f"{archive.parent.name}-{digest[:16]}"
    if (out / ".complete").is_file():
        return out
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar:
                name = Path(member.name).name
                # Plain files with plain .bvh names only: nothing can land outside the folder.
                if not member.isfile() or not name.lower().endswith(".bvh") or name != member.name.split("/")[-1]:
                    continue
                with tar.extractfile(member) as src, open(tmp / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        (tmp / ".complete").write_text(digest)
        if out.exists():           # another process finished first
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, out)
    except (OSError, tarfile.TarError, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DatasetError(f"{archive}: cannot unpack ({exc}); is the download complete?") from exc
    return out


def load_bandai2(root: str | Path, *, use_cache: bool = True, progress: bool = False) -> MotionDataset:
    """Bandai-Namco-2 at `root` (bvh.tar.xz, content_label.txt, style_label.txt) with labels, captions, split."""
    root = Path(root)
    if not (root / ARCHIVE).is_file():
        raise DatasetError(f"{root}: no {ARCHIVE}; is this the Bandai-Namco-2 folder?")
    folder = unpack_archive(root / ARCHIVE)
    files = sorted(folder.glob("*.bvh"))
    if not files:
        raise DatasetError(f"{root / ARCHIVE}: holds no .bvh files.")

    def decorate(m: Motion, f: Path) -> None:
        content, style = parse_name(f.stem)
        check_sides(m, content)
        m.labels = {"content": content, "style": style}
        seed = int(hashlib.sha256(m.name.encode()).hexdigest()[:16], 16)
        m.captions = captions_for(content, style, np.random.default_rng(seed))
        m.source.license = LICENSE
        m.source.attribution = ATTRIBUTION

    return load_bvh_dataset(NAME, folder, files, decorate=decorate,
                            split=lambda ms: split_by_content([m.name for m in ms], [m.labels["content"] for m in ms]),
                            license=LICENSE, attribution=ATTRIBUTION, use_cache=use_cache, progress=progress)
