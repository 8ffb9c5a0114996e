"""MediaPipe Pose on rendered real motions: people are found where they are, never invented."""

from __future__ import annotations

import numpy as np
import pytest

from lavimo_core.motion.resample import resample_positions
from lavimo_core.synthesis.body import random_look
from lavimo_core.synthesis.camera import Camera, place_camera
from lavimo_core.synthesis.project import project_track, torso_pixels
from lavimo_core.synthesis.render import render_joints
from lavimo_core.video.encode import write_frames
from lavimo_core.video.errors import NoPersonError
from lavimo_core.video.features import POSE_FEATURE_DIM, VIDEO_FPS, video_to_features
from lavimo_core.video.landmarks import JOINT_LANDMARKS
from lavimo_core.video.pose import Featurizer, MediaPipePoseFeaturizer


@pytest.fixture(scope="module")
def featurizer() -> MediaPipePoseFeaturizer:
    return MediaPipePoseFeaturizer()


def test_featurizer_interface(featurizer):
    assert isinstance(featurizer, Featurizer)
    assert featurizer.dim == POSE_FEATURE_DIM
    assert featurizer.version.startswith("mediapipe-0.10.14-pose-c1")
    assert featurizer.tracker_version in featurizer.version


def _render_and_track(featurizer, motion, cam: Camera, frames: int):
    """MediaPipe's track of the first `frames` video frames of `motion` rendered from `cam`, the exact
    projected landmarks beside it, and the torso length in pixels per frame."""
    placed = place_camera(cam, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
    joints = resample_positions(motion.joints, motion.fps, VIDEO_FPS)[:frames]
    track = featurizer.track(((i / VIDEO_FPS, f) for i, f in enumerate(render_joints(joints, cam, placed=placed))),
                             VIDEO_FPS)
    return track, project_track(joints, placed, VIDEO_FPS), torso_pixels(joints, placed)


def test_mediapipe_finds_the_rendered_person_where_the_joints_project(featurizer, bye):
    cam = Camera(azimuth=15.0, elevation=5.0, distance=3.0, size=(320, 240), seed=1)
    track, truth, torso = _render_and_track(featurizer, bye, cam, 15)
    assert track.present.all()
    li = [a for a, _ in JOINT_LANDMARKS]
    err = np.linalg.norm(track.image[:, li] - truth.image[:, li], axis=-1) / torso[:, None]
    assert np.median(err) < 0.1                    # median joint within a tenth of the torso
    assert (track.visibility[:, li] > 0.5).mean() > 0.8
    # World landmarks are metric and hip-centred.
    hips = (track.world[:, 23] + track.world[:, 24]) / 2
    assert np.abs(hips).max() < 0.05
    assert 0.3 < np.linalg.norm(track.world[:, 11] - track.world[:, 23], axis=-1).mean() < 0.8


def test_mediapipe_puts_the_shoulders_on_the_skeletons_joints(featurizer, bye):
    # Bandai-Namco's shoulder joints are narrow (about 21 cm apart); a chest drawn for an average adult
    # around them made MediaPipe's shoulders 0.18 torso lengths wider than the joints here, 0.11 off
    # for the left one (renderer capsules-3). The body is now built around the joints.
    from lavimo_core.video.landmarks import LANDMARK_INDEX as L

    track, truth, torso = _render_and_track(featurizer, bye, Camera(azimuth=10.0, elevation=5.0, distance=3.0,
                                                                    size=(480, 360), seed=4), 20)
    assert track.present.all()
    sh = [L["left_shoulder"], L["right_shoulder"]]
    error = np.median(np.linalg.norm(track.image[:, sh] - truth.image[:, sh], axis=-1) / torso[:, None], axis=0)
    assert (error < 0.075).all(), error
    width = lambda im: np.linalg.norm(im[:, sh[0]] - im[:, sh[1]], axis=-1)  # noqa: E731
    assert np.median((width(track.image) - width(truth.image)) / torso) < 0.16


def test_mediapipe_tells_front_from_back_when_hair_and_skin_match(featurizer, clip):
    # Brown hair on brown skin: the head alone no longer shows which way the person faces. On
    # capsules-4 MediaPipe took this front view of a held-out clip for a back view and swapped left
    # and right in 82 of its 85 frames (10 of the first 25). Dark brows and a neckline say "front".
    from lavimo_core.video.landmarks import LANDMARK_INDEX as L

    cam = Camera(azimuth=1.85, elevation=0.84, distance=5.81, focal=55.4, roll=0.38, size=(640, 480),
                 seed=946224889)
    look = random_look(np.random.default_rng(cam.seed))
    assert look.hair[0] > 0.8 * look.skin[0]                             # the case: hair as light as skin
    track, truth, _ = _render_and_track(featurizer, clip("bye_sad_001", 2.5), cam, 25)
    assert track.present.all()
    for a, b in [(L["left_shoulder"], L["right_shoulder"]), (L["left_hip"], L["right_hip"])]:
        as_is = np.linalg.norm(track.image[:, [a, b]] - truth.image[:, [a, b]], axis=-1).sum(-1)
        swapped = np.linalg.norm(track.image[:, [a, b]] - truth.image[:, [b, a]], axis=-1).sum(-1)
        assert (as_is < swapped).mean() > 0.9, (as_is < swapped).mean()


def test_frames_without_a_person_are_missing_not_invented(featurizer, tmp_path, bye_frames):
    # The renderer's empty room: the same background, nobody in it.
    from lavimo_core.synthesis.raytrace import room

    placed = place_camera(Camera(azimuth=20.0, size=(320, 240), seed=3), np.zeros((1, 22, 3)))
    empty, _ = room(placed, placed.ray_directions(), random_look(np.random.default_rng(3)), np.zeros(3))
    empty = (np.clip(empty, 0, 1) * 255).astype(np.uint8)
    frames = bye_frames[:10] + [empty] * 10
    track = featurizer.track(((i / 10, f) for i, f in enumerate(frames)), 10.0)
    assert track.present[:8].all()
    assert not track.present[12:].any()
    assert (track.world[~track.present] == 0).all() and (track.visibility[~track.present] == 0).all()
    # Partial detection is reported, not an error.
    path = write_frames(tmp_path / "half.mp4", frames, fps=10.0)
    feats = video_to_features(path)
    assert feats.features.shape == (20, POSE_FEATURE_DIM) and feats.features.dtype == np.float32
    assert 0.35 <= feats.detection_rate <= 0.65
    assert (feats.features[~feats.present] == 0).all()
    assert feats.source == str(path) and feats.fps == VIDEO_FPS


def test_video_with_nobody_in_it_is_a_clear_error(tmp_path):
    from lavimo_core.synthesis.body import random_look
    from lavimo_core.synthesis.raytrace import room

    placed = place_camera(Camera(azimuth=60.0, size=(320, 240), seed=5), np.zeros((1, 22, 3)))
    empty, _ = room(placed, placed.ray_directions(), random_look(np.random.default_rng(5)), np.zeros(3))
    frames = [(np.clip(empty, 0, 1) * 255).astype(np.uint8)] * 8
    path = write_frames(tmp_path / "empty_room.mp4", frames, fps=10.0)
    with pytest.raises(NoPersonError, match="no person was found in any of the 8 sampled frames") as e:
        video_to_features(path)
    assert "empty_room.mp4" in str(e.value)


def test_video_to_features_on_a_rendered_mp4(rendered_mp4):
    feats = video_to_features(rendered_mp4)
    assert feats.features.shape == (30, POSE_FEATURE_DIM)
    assert feats.detection_rate > 0.9
    assert np.isfinite(feats.features).all()
    part = video_to_features(rendered_mp4, start=1.0, end=2.0)
    assert len(part.present) == 10
    assert np.allclose(part.features[part.present].mean(0), feats.features[10:20][part.present].mean(0), atol=0.3)
