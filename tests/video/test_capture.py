"""Domain randomisation of projected training video (synthesis/capture.py), on a real Bandai-Namco clip."""

import numpy as np
import pytest

from lavimo_core.motion.motion import Motion
from lavimo_core.synthesis.camera import random_camera
from lavimo_core.synthesis.capture import (
    HEIGHTS,
    LEGS,
    Capture,
    crop_to_upper_body,
    hold_frames,
    pixel_jitter,
    random_capture,
    zoom_track,
)
from lavimo_core.synthesis.projected import motion_to_video_features
from lavimo_core.video.features import POSE_FEATURE_DIM


@pytest.fixture(scope="module")
def walk():
    from lavimo_core.data import load_dataset
    m = next(m for m in load_dataset("bandai-namco-1").motions if m.name == "dataset-1_walk_normal_001")
    return Motion(m.name, m.joints[:121], m.fps)


@pytest.fixture(scope="module")
def track(walk):
    from lavimo_core.motion.resample import resample_positions
    from lavimo_core.synthesis.camera import place_camera
    from lavimo_core.synthesis.project import project_track
    from lavimo_core.video.features import VIDEO_FPS
    cam = random_camera(np.random.default_rng(0))
    joints = resample_positions(walk.joints, walk.fps, VIDEO_FPS)
    return project_track(joints, place_camera(cam, walk.joints, walk.fps).retimed(walk.fps, VIDEO_FPS), VIDEO_FPS)


def test_random_captures_span_what_users_film():
    caps = [random_capture(np.random.default_rng(i)) for i in range(400)]
    heights = {c.size[1] for c in caps}
    assert min(heights) == 64 and max(heights) == 1080 and len(heights) == len(HEIGHTS)
    assert min(c.fps for c in caps) == 5 and max(c.fps for c in caps) == 60
    assert 0.08 < np.mean([c.upper_body for c in caps]) < 0.25
    assert not any(c.in_place or c.zoom != (1.0, 1.0) for c in caps)     # only when asked for ...
    again = [random_capture(np.random.default_rng(i), in_place_prob=0.2, zoom_prob=0.3) for i in range(400)]
    assert 0.1 < np.mean([c.in_place for c in again]) < 0.3
    zooms = [c.zoom for c in again if c.zoom != (1.0, 1.0)]
    assert 0.2 < len(zooms) / len(again) < 0.4
    assert all(max(z) == 1.0 and 0.5 <= min(z) <= 0.8 for z in zooms)       # framed at the tightest zoom
    assert 0.3 < np.mean([z[0] < 1.0 for z in zooms]) < 0.7                 # zooming in and out
    # ... and asking changes nothing else that is drawn
    assert [(c.fps, c.size, c.fill, c.upper_body) for c in caps] == [(c.fps, c.size, c.fill, c.upper_body) for c in again]
    assert any(c.size[0] < c.size[1] for c in caps)          # portrait phone video too


def test_low_frame_rate_holds_frames(track):
    held = hold_frames(track, 5.0)                            # track is at 10 fps: every frame shown twice
    assert np.array_equal(held.world[0], held.world[1]) and np.array_equal(held.world[2], held.world[3])
    assert not np.array_equal(held.world[1], held.world[2])
    assert hold_frames(track, 30.0) is track


def test_upper_body_only_freezes_the_legs_with_low_visibility(track):
    up = crop_to_upper_body(track, np.random.default_rng(0))
    assert np.all(up.world[:, LEGS] == up.world[:1, LEGS]) and up.visibility[:, LEGS].max() <= 0.2
    assert np.array_equal(up.world[:, :25], track.world[:, :25])


def test_pixel_jitter_grows_as_the_person_shrinks(track):
    small = type(track)(track.image / 10, track.world, track.visibility, track.present, track.size, track.fps)
    err = lambda t: np.abs(pixel_jitter(t, np.random.default_rng(1)).world - t.world).mean()   # noqa: E731
    assert err(small) > 5 * err(track) > 0


def test_fill_keeps_the_camera_draws_and_sets_the_distance():
    a, b = random_camera(np.random.default_rng(3)), random_camera(np.random.default_rng(3), fill=0.2)
    assert (a.azimuth, a.seed, a.focal) == (b.azimuth, b.seed, b.focal) and b.distance > a.distance


def test_randomised_features_are_well_formed(walk):
    rng = np.random.default_rng(5)
    cap = Capture(fps=5.0, size=(64, 64), fill=0.3, upper_body=True)
    f = motion_to_video_features(walk, random_camera(rng, cap.size, cap.fill), rng, capture=cap)
    assert f.features.shape[1] == POSE_FEATURE_DIM and np.isfinite(f.features).all() and f.present.any()


def test_a_camera_travelling_with_the_walker_sees_legs_walking_but_no_travel(walk):
    """A tracking shot or treadmill walk: the translation features stay put, the pose features are the walk's."""
    travel = slice(POSE_FEATURE_DIM - 33 - 3, POSE_FEATURE_DIM - 33)
    cam = random_camera(np.random.default_rng(2))
    kw = dict(noise=False, capture=Capture(fps=30.0, size=(640, 480), fill=0.7))
    free = motion_to_video_features(walk, cam, np.random.default_rng(0), **kw).features
    kw["capture"] = Capture(fps=30.0, size=(640, 480), fill=0.7, in_place=True)
    held = motion_to_video_features(walk, cam, np.random.default_rng(0), **kw).features
    walked = np.linalg.norm(free[-1, travel])       # torso lengths travelled over the 6 s
    stayed = np.abs(held[:, travel]).max()
    print(f"travel in the picture: free camera {walked:.2f}, travelling camera at most {stayed:.2f} torso lengths")
    assert walked > 5 and stayed < 0.1 * walked
    # the body's own motion is still there: the legs swing as much as with the free camera
    knees = [3 * i + k for i in (25, 26) for k in range(3)]
    assert np.std(held[:, knees], axis=0).mean() > 0.7 * np.std(free[:, knees], axis=0).mean()


def test_training_batches_with_randomised_video(walk):
    from lavimo_core.model.config import preset
    from lavimo_core.model.text_backbone import TextBackbone, TokenFeatureCache
    from lavimo_core.train.batching import BatchMaker
    from lavimo_core.train.clips import all_captions, prepare_clips
    m = walk
    m.captions, m.labels = ["a person walks"], {"content": "walk", "style": "normal"}
    clips = prepare_clips([m, m], mirror=True)
    cfg = preset("tiny")
    cfg.train.video_randomize, cfg.train.video_bank = True, 0
    cache = TokenFeatureCache(TextBackbone(cfg.model.text_model), all_captions(clips))
    batch = BatchMaker(clips, cache, cfg, use_video=True).make([0, 1], np.random.default_rng(0))
    assert batch.video.shape[-1] == POSE_FEATURE_DIM and batch.video_present.any()


def test_a_zoom_reads_as_depth_motion_only(track):
    """Zooming in scales the image about its centre: the body's pose and its sideways position are unchanged,
    its distance to the camera reads as shrinking (the cue a zooming lens fakes), and it stays in the frame."""
    from lavimo_core.video.normalize import NUM_LANDMARKS, root_positions, track_to_features
    zoomed = zoom_track(track, Capture(size=track.size, zoom=(0.6, 1.0), zoom_at=(0.2, 0.6)))
    assert np.array_equal(zoomed.world, track.world) and np.array_equal(zoomed.image[-1], track.image[-1])
    w, h = track.size
    assert (zoomed.image >= 0).all() and (zoomed.image[..., 0] <= w).all() and (zoomed.image[..., 1] <= h).all()
    pose = slice(0, NUM_LANDMARKS * 3)
    assert np.allclose(track_to_features(track)[:, pose], track_to_features(zoomed)[:, pose])
    plain, fake = root_positions(track), root_positions(zoomed)
    assert np.allclose(plain[:, :2], fake[:, :2], atol=1e-3)             # sideways and up: as filmed
    assert np.allclose(fake[0, 2], plain[0, 2] / 0.6, rtol=1e-3)         # zoomed out: looks 1/0.6 as far
    assert np.allclose(fake[-1, 2], plain[-1, 2], rtol=1e-3)
    assert zoom_track(track, Capture(size=track.size)) is track
