"""BVH reader and writer on real Bandai-Namco clips: parsing, forward kinematics, channel orders, round trip."""

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core.motion.bvh import BVH, bvh_from_transforms, parse_bvh, read_bvh, write_bvh
from lavimo_core.paths import find_dataset

DATA = find_dataset("bandai-namco-1") / "data"
CLIP = DATA / "dataset-1_bow_active_001.bvh"


@pytest.fixture(scope="module")
def bow() -> BVH:
    return read_bvh(CLIP)


def reference_fk(bvh: BVH, frame: int) -> np.ndarray:
    """Positions of one frame, joint by joint with scipy Rotation objects (slow and obvious)."""
    world_rot, world_pos = [], []
    for j, (ch, sl) in enumerate(zip(bvh.channels, bvh.channel_slices())):
        values = dict(zip(ch, bvh.frames[frame, sl]))
        offset = bvh.offsets[j].copy()
        for k, axis in enumerate("XYZ"):
            if f"{axis}position" in values:
                offset[k] = values[f"{axis}position"]
        rot_axes = "".join(c[0] for c in ch if c.endswith("rotation"))
        local = (Rotation.from_euler(rot_axes, [values[f"{a}rotation"] for a in rot_axes], degrees=True)
                 if rot_axes else Rotation.identity())
        p = bvh.parents[j]
        if p < 0:
            world_rot.append(local)
            world_pos.append(offset)
        else:
            world_rot.append(world_rot[p] * local)
            world_pos.append(world_pos[p] + world_rot[p].apply(offset))
    return np.array(world_pos)


def test_reads_bandai_hierarchy_and_frames(bow):
    header = CLIP.read_text().split("MOTION")[0]
    assert bow.names[:3] == ["joint_Root", "Hips", "Spine"]
    assert sum(not e for e in bow.end_site) == header.count("JOINT") + header.count("ROOT") == 22
    assert sum(bow.end_site) == header.count("End Site") == 5
    assert all(ch == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
               for ch, e in zip(bow.channels, bow.end_site) if not e)
    assert bow.num_frames == 128 and bow.frames.shape == (128, 22 * 6)
    assert bow.fps == 30.0 and bow.frame_time == pytest.approx(0.0333333)
    np.testing.assert_array_equal(bow.offsets[bow.names.index("Spine")], [15.7357, 0, 0])
    # The MOTION block as written: first and last numbers of the first frame line.
    first = CLIP.read_text().split("Frame Time:")[1].splitlines()[1].split()
    assert bow.frames[0, 0] == float(first[0]) and bow.frames[0, -1] == float(first[-1])


def test_forward_kinematics_matches_joint_by_joint_reference(bow):
    positions = bow.positions()
    assert positions.shape == (128, 27, 3)
    for frame in (0, 57, 127):
        np.testing.assert_allclose(positions[frame], reference_fk(bow, frame), atol=1e-9)
    # Hips sits under an identity joint_Root, so its position is its position channels.
    hips = bow.names.index("Hips")
    np.testing.assert_allclose(positions[:, hips], bow.frames[:, 6:9], atol=1e-9)


def test_bone_lengths_are_rigid_over_frames(bow):
    p = bow.positions()
    for j, parent in enumerate(bow.parents):
        if parent > 0:
            length = np.linalg.norm(p[:, j] - p[:, parent], axis=-1)
            assert np.ptp(length) < 1e-9


@pytest.mark.parametrize("order", ["XYZ", "YZX", "ZYX", "XZY"])
def test_any_rotation_order_gives_the_same_positions(bow, order, tmp_path):
    quats, trans = bow.local_transforms()
    other = bvh_from_transforms(bow.names, bow.parents, bow.offsets, quats, trans, bow.frame_time,
                                bow.end_site, order=order)
    write_bvh(tmp_path / "o.bvh", other)
    back = read_bvh(tmp_path / "o.bvh")
    assert back.channels[2][3:] == tuple(f"{a}rotation" for a in order)
    np.testing.assert_allclose(back.positions(), bow.positions(), atol=1e-6)


def test_three_channel_joints_use_their_offset(bow, tmp_path):
    # Bandai's non-root position channels equal the OFFSETs (to ~1e-5 cm), so 6 channels on the root (Hips,
    # once the static joint_Root is dropped) and 3 rotation channels elsewhere holds the same pose.
    quats, trans = bow.local_transforms()
    parents = [p - 1 if p > 0 else -1 for p in bow.parents[1:]]
    three = bvh_from_transforms(bow.names[1:], parents, bow.offsets[1:], quats[:, 1:], trans[:, 1:],
                                bow.frame_time, bow.end_site[1:], root_only_positions=True)
    write_bvh(tmp_path / "three.bvh", three)
    back = read_bvh(tmp_path / "three.bvh")
    assert back.names[0] == "Hips" and [len(c) for c in back.channels[:3]] == [6, 3, 3]
    np.testing.assert_allclose(back.positions(), bow.positions()[:, 1:], atol=1e-4)


def test_channels_in_unusual_order(bow, tmp_path):
    # Rotation channels first, then positions, on every joint.
    perm = [3, 4, 5, 0, 1, 2]
    cols = np.concatenate([np.array(perm) + 6 * j for j in range(22)])
    shuffled = BVH(bow.names, bow.parents, bow.offsets,
                   [tuple(ch[i] for i in perm) if ch else ch for ch in bow.channels],
                   bow.end_site, bow.frame_time, bow.frames[:, cols])
    write_bvh(tmp_path / "s.bvh", shuffled)
    back = read_bvh(tmp_path / "s.bvh")
    assert back.channels[1][0] == "Zrotation"
    np.testing.assert_allclose(back.positions(), bow.positions(), atol=1e-9)


def test_round_trip_is_exact(bow, tmp_path):
    write_bvh(tmp_path / "rt.bvh", bow)
    back = read_bvh(tmp_path / "rt.bvh")
    assert back.names == bow.names and back.parents == bow.parents and back.end_site == bow.end_site
    assert back.channels == bow.channels and back.frame_time == bow.frame_time
    np.testing.assert_array_equal(back.offsets, bow.offsets)
    np.testing.assert_array_equal(back.frames, bow.frames)  # 10 digits reproduce the 6-digit source
    np.testing.assert_allclose(back.positions(), bow.positions(), atol=1e-5)


def test_round_trip_at_lower_precision_stays_within_printed_precision(bow, tmp_path):
    write_bvh(tmp_path / "p6.bvh", bow, precision=6)
    back = read_bvh(tmp_path / "p6.bvh")
    np.testing.assert_allclose(back.frames, bow.frames, rtol=1e-5, atol=1e-4)
    again = tmp_path / "p6b.bvh"
    write_bvh(again, back, precision=6)
    assert again.read_text() == (tmp_path / "p6.bvh").read_text()


def test_every_bandai_clip_parses():
    files = sorted(DATA.glob("*.bvh"))
    assert len(files) == 174
    total = 0
    for f in files:
        bvh = read_bvh(f)
        assert bvh.frames.shape[1] == 132 and np.isfinite(bvh.frames).all()
        total += bvh.num_frames
    assert total == 31914


def test_parse_accepts_crlf_tabs_and_lowercase_channels():
    text = CLIP.read_text()
    mangled = text.replace("Zrotation", "zROTATION").replace("\n", "\r\n").replace("  ", "\t")
    a, b = parse_bvh(text), parse_bvh(mangled)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert b.channels == a.channels


def test_names_with_spaces_and_braces_on_the_joint_line(bow, tmp_path):
    text = CLIP.read_text().replace("JOINT UpperLeg_L\n    {", "JOINT Bip01 L Thigh {")
    assert "Bip01 L Thigh {" in text
    spaced = parse_bvh(text)
    assert "Bip01 L Thigh" in spaced.names and spaced.parents == bow.parents
    write_bvh(tmp_path / "spaced.bvh", spaced)
    assert read_bvh(tmp_path / "spaced.bvh").names == spaced.names


def test_writer_writes_atomically(bow, tmp_path):
    target = tmp_path / "out.bvh"
    target.write_text("old")
    write_bvh(target, bow)
    assert [p.name for p in tmp_path.iterdir()] == ["out.bvh"]
    assert read_bvh(target).num_frames == bow.num_frames


def test_error_names_path_for_missing_file(tmp_path):
    from lavimo_core.motion.bvh import BVHError
    with pytest.raises(BVHError, match="cannot read"):
        read_bvh(tmp_path / "nope.bvh")


def test_is_a_pure_module():
    import lavimo_core.motion.bvh as m
    assert "bpy" not in Path(m.__file__).read_text()
