"""load_motion on real Bandai-Namco clips: 20 fps resampling, units, up axis, canonical pose, left/right."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core.errors import LavimoError
from lavimo_core.motion.bvh import BVH, BVHError, read_bvh, write_bvh
from lavimo_core.motion.load import bvh_joints, detect_units, load_motion
from lavimo_core.motion.resample import resample_local
from lavimo_core.motion.skeleton import FEATURE_DIM
from lavimo_core.motion.skeleton import JOINT_INDEX as J
from lavimo_core.paths import find_dataset

DATA = find_dataset("bandai-namco-1") / "data"
WALK = DATA / "dataset-1_walk_normal_001.bvh"
KICK = DATA / "dataset-1_kick_normal_001.bvh"


def variant(src, path, *, scale=1.0, root_euler=None, frame_time=None) -> BVH:
    """Write a copy of clip `src`: lengths times `scale`, joint_Root rotated by `root_euler` (Z, X, Y degrees)."""
    b = read_bvh(src)
    frames = b.frames.copy()
    for ch, sl in zip(b.channels, b.channel_slices()):
        for i, c in enumerate(ch):
            if c.endswith("position"):
                frames[:, sl.start + i] *= scale
    if root_euler is not None:  # joint_Root: Xpos Ypos Zpos Zrot Xrot Yrot, static at identity
        frames[:, 3:6] = root_euler
    out = BVH(b.names, b.parents, b.offsets * scale, b.channels, b.end_site, frame_time or b.frame_time, frames)
    write_bvh(path, out)
    return out


@pytest.fixture(scope="module")
def walk():
    return load_motion(WALK)


def test_walk_is_canonical(walk):
    src = read_bvh(WALK)
    assert walk.name == "dataset-1_walk_normal_001"
    assert walk.fps == 20.0 and walk.joints.dtype == np.float32
    assert walk.num_frames == int((src.num_frames - 1) / 30 * 20 + 1e-6) + 1
    assert walk.features.shape == (walk.num_frames - 1, FEATURE_DIM) and np.isfinite(walk.features).all()
    assert walk.source.format == "bvh" and walk.source.skeleton == "bandai-namco" and walk.source.fps == 30.0
    assert walk.source.duration == pytest.approx(src.num_frames / 30, rel=1e-5)
    j = walk.joints
    assert j[..., 1].min() == pytest.approx(0.0, abs=1e-6)                    # ground at y = 0
    np.testing.assert_allclose(j[0, 0, [0, 2]], 0.0, atol=1e-6)                 # root over the origin
    across = (j[0, J["right_hip"]] - j[0, J["left_hip"]]) + (j[0, J["right_shoulder"]] - j[0, J["left_shoulder"]])
    forward = np.cross([0, 1, 0], across)
    assert forward[2] > 0 and abs(forward[0]) < 1e-5 * np.linalg.norm(forward)  # faces +Z at frame 0
    assert 1.2 < j[0, J["head"], 1] < 1.6                                        # metres, head ~1.35 m up


def test_left_is_the_characters_left(walk):
    # Independent of the L/R labels: the toes point forward (+Z) and the walk goes forward (+Z), so with
    # Y up the character's left is +X, and the _L joints are there.
    j = walk.joints
    for side in ("left", "right"):
        toe = j[:, J[f"{side}_foot"]] - j[:, J[f"{side}_ankle"]]
        assert np.median(toe[:, 2]) > 0.05
    assert j[-1, 0, 2] - j[0, 0, 2] > 3.0
    assert (j[:, J["left_hip"], 0] > j[:, J["right_hip"], 0]).mean() > 0.9
    assert (j[:, J["left_shoulder"], 0] > j[:, J["right_shoulder"], 0]).mean() > 0.9


def test_walk_left_moves_to_the_left():
    j = load_motion(DATA / "dataset-1_walk-left_normal_001.bvh").joints
    k = load_motion(DATA / "dataset-1_walk-right_normal_001.bvh").joints
    assert j[-1, 0, 0] > 1.0 and k[-1, 0, 0] < -1.0


@pytest.mark.parametrize("units,scale", [("m", 0.01), ("inch", 1 / 2.54), ("mm", 10.0), ("cmu", 0.45 / 2.54)])
def test_units_are_detected(walk, tmp_path, units, scale):
    path = tmp_path / f"walk_{units}.bvh"
    variant(WALK, path, scale=scale)
    assert detect_units(bvh_joints(read_bvh(path))[0]) == units
    np.testing.assert_allclose(load_motion(path).joints, walk.joints, atol=1e-5)


def test_units_override(walk, tmp_path):
    path = tmp_path / "walk_m.bvh"
    variant(WALK, path, scale=0.01)
    forced = load_motion(path, units=0.5)  # the file is in metres; "each unit is half a metre" halves the body
    np.testing.assert_allclose(forced.joints[0, J["head"], 1], 0.5 * walk.joints[0, J["head"], 1], rtol=1e-4)
    np.testing.assert_allclose(load_motion(WALK, units="cm").joints, walk.joints, atol=1e-6)
    with pytest.raises(ValueError, match="units"):
        load_motion(WALK, units="furlong")


@pytest.mark.parametrize("euler,up", [((0, 90, 0), "+z"), ((0, -90, 0), "-z"), ((90, 0, 0), "-x")])
def test_other_up_axes_are_turned_to_y_up(walk, tmp_path, euler, up):
    path = tmp_path / "tilted.bvh"
    variant(WALK, path, root_euler=euler)
    from lavimo_core.motion.load import detect_up
    assert detect_up(bvh_joints(read_bvh(path))[0]) == up
    np.testing.assert_allclose(load_motion(path).joints, walk.joints, atol=1e-5)


def test_facing_is_canonical_whatever_the_source_heading(walk, tmp_path):
    path = tmp_path / "turned.bvh"
    variant(WALK, path, root_euler=(0, 0, 137.0))  # yaw about Y
    np.testing.assert_allclose(load_motion(path).joints, walk.joints, atol=1e-5)


def test_resampling_keeps_source_frames_and_bone_lengths():
    bvh = read_bvh(KICK)
    at30, _ = bvh_joints(bvh, fps=30.0)
    at20, _ = bvh_joints(bvh, fps=20.0)
    assert len(at20) == int((len(at30) - 1) * 2 / 3) + 1
    np.testing.assert_allclose(at20[::2], at30[::3][: len(at20[::2])], atol=1e-9)  # shared instants
    # In-between frames come from slerped local rotations, then FK: limb lengths stay exact ...
    for a, b in [("left_hip", "left_knee"), ("right_knee", "right_ankle"), ("left_shoulder", "left_elbow"),
                 ("right_elbow", "right_wrist")]:
        length = np.linalg.norm(at20[:, J[a]] - at20[:, J[b]], axis=-1)
        assert np.ptp(length) < 1e-9
    # ... where blending positions would shorten the kicking leg by millimetres.
    lerp = (at30[1:-1:3] + at30[2::3][: len(at30[1:-1:3])]) / 2
    shin = np.linalg.norm(lerp[:, J["right_knee"]] - lerp[:, J["right_ankle"]], axis=-1)
    assert np.linalg.norm(at30[0, J["right_knee"]] - at30[0, J["right_ankle"]]) - shin.min() > 0.1  # cm


def test_slerp_halfway_between_real_frames():
    bvh = read_bvh(KICK)
    q, t = bvh.local_transforms()
    q2, t2 = resample_local(q, t, 30.0, 60.0)  # every other output frame is a midpoint
    assert len(q2) == 2 * len(q) - 1
    r0, r1, mid = (Rotation.from_quat(x.reshape(-1, 4)) for x in (q[:-1], q[1:], q2[1::2]))
    np.testing.assert_allclose((r0.inv() * mid).magnitude(), (r0.inv() * r1).magnitude() / 2, atol=1e-9)
    np.testing.assert_allclose((mid.inv() * r1).magnitude(), (r0.inv() * r1).magnitude() / 2, atol=1e-9)
    np.testing.assert_allclose(t2[1::2], (t[:-1] + t[1:]) / 2, atol=1e-12)


@pytest.mark.parametrize("frame_time,fps,step", [("0.0166667", 60.0, 3), ("0.05", 20.0, 1)])
def test_other_source_frame_rates(tmp_path, frame_time, fps, step):
    path = tmp_path / "rate.bvh"
    text = WALK.read_text().replace("Frame Time:\t0.0333333", f"Frame Time: {frame_time}")
    path.write_text(text)
    bvh = read_bvh(path)
    assert bvh.fps == fps
    at_src, _ = bvh_joints(bvh, fps=fps)
    m = load_motion(path)
    assert m.num_frames == (bvh.num_frames - 1) // step + 1
    assert m.source.duration == pytest.approx(bvh.num_frames / fps, rel=1e-5)
    raw20, _ = bvh_joints(bvh)
    np.testing.assert_allclose(raw20, at_src[::step], atol=1e-9)


def test_24_fps_source(tmp_path):
    path = tmp_path / "film.bvh"
    path.write_text(WALK.read_text().replace("Frame Time:\t0.0333333", "Frame Time: 0.0416667"))
    bvh = read_bvh(path)
    m = load_motion(path)
    assert bvh.fps == 24.0 and m.num_frames == int((bvh.num_frames - 1) / 24 * 20 + 1e-6) + 1


def test_too_short_and_unsupported_files(tmp_path):
    lines = WALK.read_text().splitlines()
    at = lines.index("MOTION")
    short = tmp_path / "one.bvh"
    short.write_text("\n".join(lines[: at + 1] + ["Frames: 1", lines[at + 2], lines[at + 3]]) + "\n")
    with pytest.raises(BVHError, match="one.bvh.*at least"):
        load_motion(short)
    other = tmp_path / "clip.fbx"
    other.write_text("x")
    with pytest.raises(LavimoError, match="clip.fbx.*bvh"):
        load_motion(other)


def test_every_bandai_clip_loads():
    for f in sorted(DATA.glob("*.bvh")):
        m = load_motion(f)
        assert m.source.skeleton == "bandai-namco"
        assert np.isfinite(m.joints).all() and m.features.shape == (m.num_frames - 1, FEATURE_DIM)
        assert abs(m.joints[..., 1].min()) < 1e-6
