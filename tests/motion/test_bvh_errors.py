"""Bad BVH input, derived from a real Bandai-Namco clip: each error names the file and the line."""

import re

import pytest

from lavimo_core.errors import LavimoError
from lavimo_core.motion.bvh import BVHError, read_bvh
from lavimo_core.paths import find_dataset

CLIP = find_dataset("bandai-namco-1") / "data" / "dataset-1_kick_normal_001.bvh"
LINES = CLIP.read_text().splitlines()
MOTION = LINES.index("MOTION")          # 0-based index of the MOTION line
FIRST = MOTION + 3                       # 0-based index of frame 0


def write(tmp_path, lines, name="bad.bvh"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def expect_error(path, line, *words):
    with pytest.raises(BVHError) as info:
        read_bvh(path)
    msg = str(info.value)
    assert isinstance(info.value, LavimoError)
    assert str(path) in msg
    if line is not None:
        assert f"{path}:{line}:" in msg, msg
    for w in words:
        assert re.search(w, msg, re.IGNORECASE), msg
    return msg


def test_truncated_in_the_frames(tmp_path):
    lines = LINES[: FIRST + 100]
    lines[-1] = " ".join(lines[-1].split()[:50])  # cut mid-line, as an interrupted download does
    expect_error(write(tmp_path, lines), FIRST + 100, "frame 99", "132 channels", "truncated")


def test_truncated_at_a_line_boundary(tmp_path):
    expect_error(write(tmp_path, LINES[: FIRST + 40]), FIRST + 40, "ends after 40 of", "truncated")


def test_truncated_in_the_hierarchy(tmp_path):
    expect_error(write(tmp_path, LINES[:60]), 60, "no MOTION", "truncated")


def test_corrupt_number(tmp_path):
    lines = list(LINES)
    parts = lines[FIRST + 7].split()
    parts[20] = "12.3.4"
    lines[FIRST + 7] = " ".join(parts)
    expect_error(write(tmp_path, lines), FIRST + 8, "frame 7", "not a number", "12.3.4")


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-inf"])
def test_non_finite_values(tmp_path, token):
    lines = list(LINES)
    parts = lines[FIRST + 3].split()
    parts[40] = token
    lines[FIRST + 3] = " ".join(parts)
    expect_error(write(tmp_path, lines), FIRST + 4, "frame 3", "non-finite|NaN")


def test_dropped_channel(tmp_path):
    lines = list(LINES)
    lines[FIRST + 10] = " ".join(lines[FIRST + 10].split()[:-1])
    expect_error(write(tmp_path, lines), FIRST + 11, "frame 10 has 131 values", "132 channels")


def test_extra_channel(tmp_path):
    lines = list(LINES)
    lines[FIRST + 2] += " 0.5"
    expect_error(write(tmp_path, lines), FIRST + 3, "frame 2 has 133 values")


def test_zero_frames(tmp_path):
    lines = LINES[: MOTION + 1] + ["Frames: 0", LINES[MOTION + 2]]
    expect_error(write(tmp_path, lines), MOTION + 2, "0 frames")


def test_more_frames_than_declared(tmp_path):
    lines = LINES + [LINES[-1]]
    expect_error(write(tmp_path, lines), len(lines), "more frame lines")


def test_unknown_channel_name(tmp_path):
    lines = list(LINES)
    at = next(i for i, l in enumerate(lines) if "CHANNELS" in l and i > 10)
    lines[at] = lines[at].replace("Xrotation", "Wrotation")
    expect_error(write(tmp_path, lines), at + 1, "unknown channel 'Wrotation'")


def test_channel_count_larger_than_names(tmp_path):
    lines = list(LINES)
    at = next(i for i, l in enumerate(lines) if "CHANNELS" in l and i > 10)
    lines[at] = lines[at].replace("CHANNELS 6", "CHANNELS 7")
    # the 7th "name" is the next joint's JOINT keyword
    expect_error(write(tmp_path, lines), at + 2, "unknown channel 'JOINT'")


def test_missing_closing_brace(tmp_path):
    lines = list(LINES)
    last_brace = max(i for i in range(MOTION) if lines[i].strip() == "}")
    del lines[last_brace]
    expect_error(write(tmp_path, lines), None, "not closed|braces")


def test_missing_offset(tmp_path):
    lines = list(LINES)
    at = next(i for i, l in enumerate(lines) if "OFFSET" in l and i > 10)
    lines[at] = lines[at].replace("OFFSET", "OFSET")
    expect_error(write(tmp_path, lines), at + 1, "expected 'OFFSET'", "OFSET")


def test_non_numeric_offset(tmp_path):
    lines = list(LINES)
    at = next(i for i, l in enumerate(lines) if "OFFSET" in l and i > 10)
    lines[at] = "OFFSET 1 two 3"
    expect_error(write(tmp_path, lines), at + 1, "must be a number", "two")


def test_bad_frame_time(tmp_path):
    lines = list(LINES)
    lines[MOTION + 2] = "Frame Time: 0"
    expect_error(write(tmp_path, lines), MOTION + 3, "positive")


def test_missing_frames_header(tmp_path):
    lines = list(LINES)
    lines[MOTION + 1] = "Frams: 12"
    expect_error(write(tmp_path, lines), MOTION + 2, "Frames:")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.bvh"
    path.write_text("")
    expect_error(path, None, "empty")


def test_not_a_bvh_file(tmp_path):
    path = tmp_path / "notes.bvh"
    path.write_text("these are my notes\nMOTION\nFrames: 1\nFrame Time: 0.1\n0\n")
    expect_error(path, 1, "expected 'HIERARCHY'")


def test_two_roots_are_refused(tmp_path):
    header = LINES[:MOTION]
    lines = header + header[1:] + LINES[MOTION:]
    expect_error(write(tmp_path, lines), MOTION + 1, "only one ROOT")


@pytest.mark.parametrize("column, value, words", [(0, "1e30", ("Xposition", "1e\\+30")),
                                                   (1, "-1e20", ("Yposition",)),
                                                   (3, "1e30", ("rotation", "degrees"))])
def test_absurd_finite_values(tmp_path, column, value, words):
    # Finite but absurd numbers used to abort a whole library build with no file named (1e30) or be
    # indexed silently (1e20); they are refused with the file, line, frame, joint and channel.
    lines = list(LINES)
    parts = lines[FIRST + 5].split()
    parts[column] = value
    lines[FIRST + 5] = " ".join(parts)
    expect_error(write(tmp_path, lines), FIRST + 6, "frame 5", "joint_Root", "re-export", *words)


def test_absurd_offset(tmp_path):
    lines = list(LINES)
    at = next(i for i, line in enumerate(lines) if "OFFSET" in line)
    lines[at] = "OFFSET 1e12 0 0"
    expect_error(write(tmp_path, lines), at + 1, "OFFSET x", "1e12")
