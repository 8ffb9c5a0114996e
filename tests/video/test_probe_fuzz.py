"""Fuzz of the video probe with mutated real clips: a sane VideoInfo, or a VideoError that names the file.

Truncations (interrupted copies), bit flips, zeroed blocks, random heads and appended garbage of three real
clips from real-video-dev; any exception other than a VideoError is a bug. Seeded, so a failure reproduces.
"""

from __future__ import annotations

import math
import random

from lavimo_core.paths import find_dataset
from lavimo_core.video.decode import probe
from lavimo_core.video.errors import VideoError
from tests.fuzz import fuzz

CASES = 1000
CLIPS = ("walking/kalininator_walk_room.mp4", "jumping/weizmann_jack_a.mp4", "waving_one_hand/weizmann_wave1_a.mp4")


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    b = bytearray(data)
    if kind == 0:  # an interrupted copy
        return data[:rng.randrange(len(data))]
    if kind == 1:  # bit flips, mostly in the container header where they matter
        for _ in range(rng.randint(1, 16)):
            at = rng.randrange(min(len(b), 65536)) if rng.random() < 0.8 else rng.randrange(len(b))
            b[at] ^= 1 << rng.randrange(8)
    elif kind == 2:  # a zeroed block (a bad sector)
        at, n = rng.randrange(len(b)), rng.randint(16, 65536)
        b[at:at + n] = bytes(len(b[at:at + n]))
    elif kind == 3:  # a random head
        n = rng.randint(1, 4096)
        b[:n] = bytes(rng.randrange(256) for _ in range(n))
    elif kind == 4:  # garbage appended
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4096)))
    else:  # a chunk duplicated or dropped
        at, n = rng.randrange(len(b)), rng.randint(1, 32768)
        b = b[:at] + (b[at:at + n] * 2 if rng.random() < 0.5 else b"") + b[at + n:]
    return bytes(b)


def test_fuzz_video_probe_with_mutated_real_clips(tmp_path):
    root = find_dataset("real-video-dev")
    sources = [(root / c).read_bytes() for c in CLIPS]

    def check(info) -> str | None:
        sane = (info.width > 0 and info.height > 0 and math.isfinite(info.fps) and info.fps >= 0
                and math.isfinite(info.duration) and info.duration >= 0 and info.frames >= 0)
        return None if sane else f"nonsense description {info}"

    outcomes, failures = fuzz(sources, _mutate, probe, VideoError, check, tmp_path, ".mp4", CASES, seed=2)
    print(f"video probe fuzz: {CASES} cases, {outcomes}, {len(failures)} failures")
    assert not failures, failures[:10]
    assert outcomes["read"] > 100 and outcomes["refused"] > 50
