"""Normalised pose features: camera invariance, translation cues, and projected vs real features."""

from __future__ import annotations

import numpy as np
import pytest

from lavimo_core.motion.resample import resample_positions
from lavimo_core.synthesis.camera import Camera, place_camera
from lavimo_core.synthesis.project import project_track
from lavimo_core.synthesis.projected import motion_to_video_features
from lavimo_core.synthesis.rendered import rendered_video_features
from lavimo_core.video.features import POSE_FEATURE_DIM, VIDEO_FPS
from lavimo_core.video.normalize import NOMINAL_FOV_DEG, track_to_features

POSE = slice(0, 99)
MOVE = slice(99, 102)
# The focal length that matches the nominal field of view the translation cue assumes.
NOMINAL_FOCAL_MM = 36.0 / (2 * np.tan(np.radians(NOMINAL_FOV_DEG) / 2))


def exact_features(motion, camera: Camera) -> np.ndarray:
    placed = place_camera(camera, motion.joints, motion.fps).retimed(motion.fps, VIDEO_FPS)
    return track_to_features(project_track(resample_positions(motion.joints, motion.fps, VIDEO_FPS), placed, VIDEO_FPS))


@pytest.mark.parametrize("name", ["walk_normal_001", "bow_normal_001", "walk-left_normal_001"])
def test_exact_features_do_not_depend_on_the_camera(clip, name):
    """Static cameras (a panning camera turns the world landmarks with it, as it does in real footage)."""
    m = clip(name)
    cams = [Camera(azimuth=az, elevation=el, distance=10.0, focal=NOMINAL_FOCAL_MM, size=(640, 480))
            for az, el in [(0, 5), (75, 20), (-140, 30)]]
    assert not any(place_camera(c, m.joints, m.fps).panning for c in cams)
    feats = [exact_features(m, c) for c in cams]
    for f in feats[1:]:
        assert np.abs(f[:, POSE] - feats[0][:, POSE]).mean() < 0.02    # torso units
        # Where the body went, from the image: within 10 % of the distance travelled (plus a torso length).
        travelled = np.abs(feats[0][:, MOVE]).max()
        assert np.abs(f[:, MOVE] - feats[0][:, MOVE]).mean() < 0.1 * travelled + 0.1


def test_translation_tells_walk_from_walk_back_and_walk_left(clip):
    """Where the body goes, in its own frame at the start: forward +z, its left +x (torso lengths).
    Bandai's walk-left/right drift sideways (about 1 m over 4 m) while walking on."""
    cam = Camera(azimuth=50, elevation=15, distance=12.0, focal=NOMINAL_FOCAL_MM, size=(640, 480))
    names = ("walk", "walk-back", "walk-left", "walk-right")
    end = {n: exact_features(clip(f"{n}_normal_001"), cam)[-1, MOVE] for n in names}
    assert end["walk"][2] > 4.0 and abs(end["walk"][0]) < 0.2 * end["walk"][2]
    assert end["walk-back"][2] < -1.0
    assert end["walk-left"][0] > 0.2 * end["walk-left"][2] > 0
    assert end["walk-right"][0] < -0.2 * end["walk-right"][2] < 0


def test_projected_features(bye):
    cam = Camera(azimuth=-60, elevation=12, size=(640, 480), seed=2)
    a = motion_to_video_features(bye, cam, np.random.default_rng(0))
    b = motion_to_video_features(bye, cam, np.random.default_rng(0))
    c = motion_to_video_features(bye, cam, np.random.default_rng(1))
    clean = motion_to_video_features(bye, cam, noise=False)
    n = len(resample_positions(bye.joints, bye.fps, VIDEO_FPS))
    assert a.features.shape == (n, POSE_FEATURE_DIM) and a.features.dtype == np.float32
    assert np.array_equal(a.features, b.features)                 # seeded
    assert not np.array_equal(a.features, c.features)
    assert clean.present.all() and clean.detection_rate == 1.0
    assert np.isfinite(a.features).all()
    assert a.source == f"projected:{bye.name}"
    from lavimo_core.video.pose import MediaPipePoseFeaturizer
    assert a.featurizer_version == MediaPipePoseFeaturizer().version   # interchangeable with real features


@pytest.mark.slow
def test_projected_features_are_closer_to_real_ones_of_the_same_motion_than_to_another(tmp_path, monkeypatch, clip):
    """Render -> MediaPipe features of two clips against their projected (noisy) features."""
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path))
    clips = [clip("bye_normal_001", 3.0), clip("walk_normal_001", 3.0)]
    cam = Camera(azimuth=30, elevation=10, size=(320, 240), seed=4)
    real = [rendered_video_features(m, cam) for m in clips]
    proj = [motion_to_video_features(m, cam, np.random.default_rng(0)) for m in clips]

    def dist(r, p):
        n = min(len(r.present), len(p.present))
        both = r.present[:n] & p.present[:n]
        return np.abs(r.features[:n][both][:, POSE] - p.features[:n][both][:, POSE]).mean()

    for i in range(2):
        assert real[i].detection_rate > 0.9
        assert dist(real[i], proj[i]) < dist(real[i], proj[1 - i])
