"""`lavimo retarget-preview`: a real clip and its retargeting drawn as two pose strips; bad input refused."""

import struct

from lavimo_core.cli import main


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_strips_of_the_source_and_the_rig(tmp_path, capsys, bandai_motions):
    out = tmp_path / "strip.png"
    clip = bandai_motions["bow_normal_001"].source.path
    assert main(["retarget-preview", clip, "--rig", "apose", "--out", str(out), "--poses", "4", "--height", "100"]) == 0
    assert _png_size(out) == (4 * 60, 200)   # four poses of 60 px, source strip above the rig's
    said = capsys.readouterr().out
    assert "apose rig" in said and "19 joints from the source file's rotations" in said


def test_bad_input(tmp_path, capsys, bandai_motions):
    clip = bandai_motions["walk_normal_001"].source.path
    assert main(["retarget-preview", clip, "--out", str(tmp_path / "strip.jpg")]) == 2
    assert "write a .png file" in capsys.readouterr().err
    assert main(["retarget-preview", clip, "--out", str(tmp_path / "no" / "strip.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["retarget-preview", str(tmp_path / "missing.bvh"), "--out", str(tmp_path / "s.png")]) == 2
    assert "missing.bvh" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.png"))
