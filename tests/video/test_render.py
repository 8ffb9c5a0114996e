"""The renderer on real Bandai-Namco clips: framing, depth order, determinism, the H.264 file."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lavimo_core.motion.resample import resample_positions
from lavimo_core.motion.skeleton import JOINT_INDEX as J
from lavimo_core.synthesis.body import CHEST, HEAD, SKIN, body_primitives, random_look
from lavimo_core.synthesis.body_landmarks import joints_to_landmarks
from lavimo_core.synthesis.camera import Camera, place_camera, random_camera
from lavimo_core.synthesis.raytrace import chest_albedo, face_albedo, trace_body
from lavimo_core.synthesis.render import render_motion, write_video
from lavimo_core.video.decode import iter_frames, probe
from lavimo_core.video.landmarks import LANDMARK_INDEX


def test_frames_are_deterministic_per_camera(bye):
    cam = Camera(azimuth=40, size=(160, 120), seed=7)
    a = list(render_motion(bye, cam, fps=5.0))
    b = list(render_motion(bye, cam, fps=5.0))
    assert len(a) == int(bye.duration * 5) and a[0].shape == (120, 160, 3) and a[0].dtype == np.uint8
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    other = next(render_motion(bye, Camera(azimuth=40, size=(160, 120), seed=8), fps=5.0))
    assert not np.array_equal(a[0], other)      # another seed, another look


@pytest.mark.parametrize("pan", [False, True])
def test_the_whole_walk_stays_in_frame(walk, pan):
    cam = Camera(azimuth=90, elevation=10, distance=3.0, size=(320, 240), pan=pan)
    placed = place_camera(cam, walk.joints, walk.fps)
    uv = placed.project(joints_to_landmarks(walk.joints))
    assert (uv[..., 0] > 0).all() and (uv[..., 0] < 320).all()
    assert (uv[..., 1] > 0).all() and (uv[..., 1] < 240).all()
    if pan:
        assert placed.rotation.shape == (len(walk.joints), 3, 3)
        retimed = placed.retimed(walk.fps, 10.0)
        assert len(retimed.rotation) == len(resample_positions(walk.joints, walk.fps, 10.0))


def test_a_static_camera_that_would_lose_the_body_pans_instead(walk):
    # A 4 m walk seen from the side at 2 m would need the camera far back to hold it all: it follows instead.
    placed = place_camera(Camera(azimuth=90, distance=2.0, size=(320, 240)), walk.joints, walk.fps)
    assert placed.panning


def test_depth_order_face_from_the_front_hair_from_the_back(bye):
    """The nose pixel shows the face seen from the front, and the back of the head (hair) from behind."""
    frame = bye.joints[:1]
    look = random_look(np.random.default_rng(0))
    got = {}
    for az in (0.0, 180.0):
        placed = place_camera(Camera(azimuth=az, elevation=0, distance=2.0, focal=50, size=(240, 320)), frame)
        u, v = placed.project(joints_to_landmarks(frame)[0, LANDMARK_INDEX["nose"]])[:2].astype(int)
        (x0, _, y0, _), depth, _, material, local = trace_body(body_primitives(frame[0], look), placed,
                                                               placed.ray_directions())
        got[az] = (material[v - y0, u - x0], local[v - y0, u - x0])
    front_mat, _ = got[0.0]
    back_mat, back_local = got[180.0]
    assert front_mat == SKIN                         # the nose, in front of everything
    assert back_mat == HEAD and back_local[2] < 0    # the back of the skull (local z < 0), where the hair is


def test_front_and_back_differ_even_when_hair_is_the_colour_of_skin(bye):
    """The chest shows a neckline from the front only, and the brows stay darker than the skin: with
    brown hair on brown skin these are what tell MediaPipe a front view from a back view."""
    frame = bye.joints[:1]
    look = replace(random_look(np.random.default_rng(0)), skin=(0.52, 0.35, 0.24), hair=(0.42, 0.28, 0.14),
                   shirt=(0.2, 0.3, 0.8))
    neckline = {}
    for az in (0.0, 180.0):
        placed = place_camera(Camera(azimuth=az, elevation=0, distance=2.0, focal=50, size=(240, 320)), frame)
        # 2 cm below the neck joint, on the body's midline: the neckline in front, the shirt's back behind.
        u, v = placed.project(frame[0, J["neck"]] - [0, 0.02, 0])[:2].astype(int)
        (x0, _, y0, _), _, _, material, local = trace_body(body_primitives(frame[0], look), placed,
                                                           placed.ray_directions())
        assert material[v - y0, u - x0] == CHEST
        neckline[az] = chest_albedo(local[v - y0, u - x0][None], np.array(look.shirt), np.array(look.skin))[0]
    assert np.allclose(neckline[0.0], look.skin) and np.allclose(neckline[180.0], look.shirt)
    brow = np.array([[np.sin(0.37) * np.cos(0.24), np.sin(0.24), np.cos(0.37) * np.cos(0.24)]])
    skin, hair = np.array(look.skin), np.array(look.hair)
    assert (face_albedo(brow, skin, hair)[0] < 0.6 * skin).all()


def test_limb_in_front_hides_the_torso(walk):
    """Seen from the side, the near arm covers the chest behind it: the nearest surface wins."""
    t = 0
    frame = walk.joints[t:t + 1]
    placed = place_camera(Camera(azimuth=90, elevation=0, distance=2.5, focal=50, size=(240, 320)), frame)
    look = random_look(np.random.default_rng(1))
    (x0, _, y0, _), depth, _, material, _ = trace_body(body_primitives(frame[0], look), placed,
                                                       placed.ray_directions())
    el = frame[0, J["left_elbow"]]          # camera on the body's left: the left elbow is the near one
    u, v = placed.project(el)[:2].astype(int)
    d = depth[v - y0, u - x0]
    dist_elbow = np.linalg.norm(el - placed.position)
    assert np.isfinite(d) and d < dist_elbow        # surface of the near arm, in front of its joint
    assert d > dist_elbow - 0.08


def test_write_video_is_h264_with_the_motions_length(tmp_path, bye):
    path = write_video(tmp_path / "bye.mp4", bye, Camera(size=(160, 120)), fps=20.0)
    info = probe(path)
    assert info.codec == "h264" and (info.width, info.height) == (160, 120)
    assert info.fps == pytest.approx(20.0, abs=0.01)
    n = sum(1 for _ in iter_frames(path))
    assert n == len(resample_positions(bye.joints, bye.fps, 20.0))
    assert not list(tmp_path.glob(".*tmp*"))     # written atomically, nothing left over


def test_random_cameras_cover_the_buckets():
    rng = np.random.default_rng(0)
    cams = [random_camera(rng) for _ in range(400)]
    az = np.abs(np.array([c.azimuth for c in cams]))
    assert (az < 45).any() and ((az > 45) & (az < 135)).any() and (az > 135).any()
    assert min(c.elevation for c in cams) < 5 and max(c.elevation for c in cams) > 30
    assert 0.3 < np.mean([c.pan for c in cams]) < 0.7
    assert len({c.seed for c in cams}) == 400
