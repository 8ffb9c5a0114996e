"""Long takes spliced from real Bandai-Namco clips, with the truth of every segment known.

Real long takes (the CMU sessions) have no time-stamped labels, so moment search is measured on takes
built by splicing short labelled clips end to end: walk -> wave -> run -> bow, each segment one action
(one or more clips of the same content until it lasts at least `min_seconds`). Each next clip is turned
and moved to continue from where the body is, then cross-faded over `blend_frames` so there is no jump;
the segment boundary is the middle of the cross-fade. Features are computed on the spliced joints, as
for any imported motion.

Clips: walk, run, wave-both-hands and raise-up-both-hands from Bandai-Namco-2 (the dev archive) and bow
from Bandai-Namco-1, all from their datasets' val/test splits (clips the tiny/default models never trained
on), normal style first.
Left/right contents are left out: which side their labels mean is not checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..motion.features import joints_to_features
from ..motion.motion import Motion, SourceInfo
from ..motion.skeleton import FPS, JOINT_INDEX

# content -> (dataset, the query an animator would type for it)
CONTENTS: dict[str, tuple[str, str]] = {
    "walk": ("bandai-namco-2-dev", "a person walks forward"),
    "run": ("bandai-namco-2-dev", "a person runs forward"),
    "wave-both-hands": ("bandai-namco-2-dev", "a person waves goodbye with both hands"),
    "raise-up-both-hands": ("bandai-namco-2-dev", "a person raises both hands above the head"),
    "bow": ("bandai-namco-1", "a person bows"),
}
BLEND_FRAMES = 10  # 0.5 s cross-fade between consecutive clips


@dataclass
class Segment:
    """One action of a long take: its content, the query for it and its time range in seconds."""

    content: str
    query: str
    start: float
    end: float
    clips: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass
class LongTake:
    """A spliced long motion and the truth of its segments, in order."""

    motion: Motion
    segments: list[Segment]


def _heading(joints: np.ndarray) -> float:
    """Yaw (radians about +Y) the body faces in one frame (22, 3), from hips and shoulders."""
    j = JOINT_INDEX
    across = (joints[j["right_hip"]] - joints[j["left_hip"]]) + (joints[j["right_shoulder"]] - joints[j["left_shoulder"]])
    forward = np.array([across[2], 0.0, -across[0]])
    return float(np.arctan2(forward[0], forward[2]))


def _yaw(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def continue_from(previous: np.ndarray, clip: np.ndarray, blend: int) -> np.ndarray:
    """`clip` joints turned and moved so its first frame stands where `previous`'s frame -blend stands."""
    at = previous[-blend] if blend > 0 else previous[-1]
    turn = _yaw(_heading(at) - _heading(clip[0]))
    moved = (clip - clip[0, 0] * [1.0, 0.0, 1.0]) @ turn.T
    return (moved + at[0] * [1.0, 0.0, 1.0]).astype(np.float32)


def splice_joints(clips: list[np.ndarray], blend: int = BLEND_FRAMES) -> tuple[np.ndarray, list[int]]:
    """Joints of clips played one after another with cross-fades; and the frame where each clip starts."""
    out, starts = np.asarray(clips[0], dtype=np.float32), [0]
    for clip in clips[1:]:
        b = min(blend, len(out) - 1, len(clip) - 1)
        nxt = continue_from(out, np.asarray(clip, dtype=np.float32), b)
        w = np.linspace(0.0, 1.0, b + 2)[1:-1, None, None]
        w = w * w * (3 - 2 * w)  # smoothstep: no velocity jump at either end of the fade
        mixed = (1 - w) * out[len(out) - b:] + w * nxt[:b]
        starts.append(len(out) - b + b // 2)
        out = np.concatenate([out[:len(out) - b], mixed, nxt[b:]]).astype(np.float32)
    return out, starts


def splice(name: str, parts: list[tuple[str, list[Motion]]], blend: int = BLEND_FRAMES) -> LongTake:
    """A long take from (content, clips of that content) in order; each content is one segment."""
    flat = [(content, m) for content, ms in parts for m in ms]
    joints, starts = splice_joints([m.joints for _, m in flat], blend)
    ends = starts[1:] + [len(joints)]
    segments: list[Segment] = []
    for (content, m), s, e in zip(flat, starts, ends, strict=True):
        if segments and segments[-1].content == content:
            segments[-1].end, segments[-1].clips = e / FPS, segments[-1].clips + [m.name]
        else:
            segments.append(Segment(content, CONTENTS[content][1], s / FPS, e / FPS, [m.name]))
    motion = Motion(name=name, joints=joints, captions=[" then ".join(s.query for s in segments)],
                    labels={"spliced": "->".join(s.content for s in segments)},
                    source=SourceInfo(path="", format="spliced", skeleton="bandai-namco", fps=FPS,
                                      duration=len(joints) / FPS,
                                      license="CC BY-NC 4.0", attribution="Bandai Namco Research Inc."))
    motion.features = joints_to_features(joints)
    return LongTake(motion, segments)


def load_clips(per_content: int = 6) -> dict[str, list[Motion]]:
    """Up to `per_content` held-out (val/test) clips of each content in CONTENTS, normal style first, by name.

    Held-out takes only: the default model trains on both datasets' train takes, so a take spliced from
    train clips would measure memory, not search.
    """
    from ..data import load_dataset

    out: dict[str, list[Motion]] = {}
    for dataset in sorted({d for d, _ in CONTENTS.values()}):
        ds = load_dataset(dataset)
        unseen = sorted(ds.split("val") + ds.split("test"), key=lambda m: (m.labels.get("style") != "normal", m.name))
        for content, (source, _) in CONTENTS.items():
            if source == dataset:
                out[content] = [m for m in unseen if m.labels.get("content") == content][:per_content]
    return out


def spliced_set(clips: dict[str, list[Motion]], takes: int = 20, per_take: int = 4, min_seconds: float = 3.0,
                seed: int = 0) -> list[LongTake]:
    """`takes` long takes of `per_take` distinct actions each, in random order, drawn from `clips`."""
    rng = np.random.default_rng(seed)
    contents = sorted(c for c, ms in clips.items() if ms)
    if len(contents) < per_take:
        raise ValueError(f"need clips of at least {per_take} contents, got {contents}")
    out = []
    for t in range(takes):
        parts = []
        for content in rng.permutation(contents)[:per_take]:
            pool, chosen = clips[str(content)], []
            order = rng.permutation(len(pool))
            while sum(m.duration for m in chosen) < min_seconds:  # e.g. two 1.8 s raises make one segment
                chosen.append(pool[order[len(chosen) % len(order)]])
            parts.append((str(content), chosen))
        out.append(splice(f"take_{t:03d}", parts))
    return out
