"""Fuzz of the BVH reader with mutated real Bandai-Namco and CMU files: a clean Motion or a LavimoError naming the file.

Every case either loads into finite canonical joints within MAX_JOINT_EXTENT_M of the origin, or raises a
LavimoError whose message names the file; any other exception is a bug. Seeded, so a failure reproduces.
"""

from __future__ import annotations

import random

import numpy as np

from lavimo_core.errors import LavimoError
from lavimo_core.motion.load import load_motion
from lavimo_core.paths import find_dataset
from lavimo_core.store.encode import MAX_JOINT_EXTENT_M
from tests.fuzz import fuzz

CASES = 1200
TOKENS = ["1e308", "-1e30", "1e7", "9e6", "nan", "inf", "-inf", "0", "", "abc", "1e-320", "360000000", "12.3.4",
          "{", "}", "JOINT", "End", "CHANNELS", "-0", "0x10", "1_000"]


def _short(path, frames: int = 12) -> str:
    """A real file cut to its first `frames` frames (header kept consistent), so each case loads fast."""
    lines = path.read_text().splitlines()
    at = lines.index("MOTION")
    return "\n".join(lines[:at + 1] + [f"Frames: {frames}"] + lines[at + 2:at + 3 + frames]) + "\n"


def _mutate(text: str, rng: random.Random) -> bytes:
    lines = text.splitlines()
    kind = rng.randrange(11)
    if kind == 0:  # a value token replaced by something hostile, mostly in the frames
        first = next(k for k, line in enumerate(lines) if line.startswith("Frame Time")) + 1
        i = rng.randrange(first, len(lines)) if rng.random() < 0.7 else rng.randrange(len(lines))
        parts = lines[i].split() or [""]
        parts[rng.randrange(len(parts))] = rng.choice(TOKENS)
        lines[i] = " ".join(parts)
    elif kind == 1:
        del lines[rng.randrange(len(lines))]
    elif kind == 2:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif kind == 3:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == 4:  # the header counts lie
        at = next(k for k, line in enumerate(lines) if line.startswith("Frames:"))
        lines[at + rng.randrange(2)] = rng.choice([f"Frames: {rng.randint(-3, 40)}", "Frame Time: 0",
                                                    f"Frame Time: {rng.choice(TOKENS)}", "Frames: 1e9"])
    elif kind == 5:  # a channel count or name changed
        i = rng.choice([k for k, line in enumerate(lines) if "CHANNELS" in line])
        parts = lines[i].split()
        parts[rng.randrange(1, len(parts))] = rng.choice(["0", "7", "3", "Wrotation", "Xposition", "-1"])
        lines[i] = " ".join(parts)
    elif kind >= 9:  # a frame value scaled: finite but maybe absurd
        first = next(k for k, line in enumerate(lines) if line.startswith("Frame Time")) + 1
        i = rng.randrange(first, len(lines))
        parts = lines[i].split()
        j = rng.randrange(len(parts))
        parts[j] = repr(float(parts[j] or 1) * 10.0 ** rng.randint(1, 12) + rng.random())
        lines[i] = " ".join(parts)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if kind == 6:  # truncated download
        data = data[:rng.randrange(len(data))]
    elif kind == 7:  # bit flips
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        data = bytes(b)
    elif kind == 8:  # random bytes spliced in
        k = rng.randrange(len(data))
        data = data[:k] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[k:]
    return data


def test_fuzz_bvh_reader_with_mutated_real_files(tmp_path):
    import tarfile
    sources = [_short(p) for p in sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[::60]]
    with tarfile.open(find_dataset("cmu-acrnn") / "bvh.tar.xz") as tar:  # another skeleton, 120 fps, inches
        member = next(m for m in tar.getmembers() if m.name.endswith(".bvh"))
        cmu = tmp_path / "cmu.bvh"
        cmu.write_bytes(tar.extractfile(member).read())
    sources.append(_short(cmu, 40))

    def check(m) -> str | None:
        finite = np.isfinite(m.joints).all() and np.isfinite(m.features).all()
        return None if finite and np.abs(m.joints).max() <= MAX_JOINT_EXTENT_M else "loaded with non-finite or absurd joints"

    outcomes, failures = fuzz(sources, _mutate, load_motion, LavimoError, check, tmp_path, ".bvh", CASES, seed=1)
    print(f"BVH fuzz: {CASES} cases, {outcomes}, {len(failures)} failures")
    assert not failures, failures[:10]
    assert outcomes["read"] > 50 and outcomes["refused"] > 300  # both paths are exercised
