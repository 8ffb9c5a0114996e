"""A person small in a large frame: MediaPipe's full frame misses them, the crop that follows them finds them.

The footage is a real camera clip from real-video-dev, placed at reduced size in a 1080p frame at test time
(into tmp_path: the clip is never copied into the project).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lavimo_core.paths import find_dataset
from lavimo_core.video.decode import iter_frames
from lavimo_core.video.encode import write_frames
from lavimo_core.video.errors import NoPersonError
from lavimo_core.video.features import VIDEO_FPS, default_featurizer, video_to_features
from lavimo_core.video.person_crop import CROP_PX, cut, resize

CLIP = "waving_both_hands/omkar_wave_both_hands.mp4"   # 420x420, one person filling most of the frame
OFFSET = np.array([1200.0, 500.0])


def _clip_frames():
    try:
        return list(iter_frames(find_dataset("real-video-dev") / CLIP, fps=VIDEO_FPS))
    except Exception as exc:  # noqa: BLE001  (no dev footage on this machine)
        pytest.skip(f"real-video-dev not available: {exc}")


def _small_in_1080p(frames, scale: float, path):
    def place(rgb):
        h, w = rgb.shape[:2]
        small = np.asarray(Image.fromarray(rgb).resize((int(w * scale), int(h * scale)), Image.BILINEAR))
        canvas = np.full((1080, 1920, 3), 90, np.uint8)
        y, x = OFFSET[::-1].astype(int)
        canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
        return canvas

    write_frames(path, (place(rgb) for _, rgb in frames), fps=VIDEO_FPS)
    return path


def test_a_small_person_in_a_1080p_frame_is_found_in_a_crop_with_the_same_landmarks(tmp_path):
    frames = _clip_frames()
    scale = 0.5                                                  # the person ~175 px of 1080
    video = _small_in_1080p(frames, scale, tmp_path / "small.mp4")
    featurizer = default_featurizer()
    full = featurizer.track(iter_frames(video, fps=VIDEO_FPS), VIDEO_FPS)
    assert full.detection_rate < 0.1                              # what the full frame alone gave (0 of 125)

    feats = video_to_features(video)
    assert feats.cropped and feats.detection_rate >= 0.9
    assert feats.frame_size == (1920, 1080) and 0.1 < feats.person_height < 0.25
    assert "small in the frame" in feats.describe() and "1920x1080" in feats.describe()

    # The landmarks, mapped back to the full frame, are where the original clip's land after the same placement.
    original = featurizer.track(iter(frames), VIDEO_FPS)
    cropped = featurizer.track_in_crops(iter_frames(video, fps=VIDEO_FPS), VIDEO_FPS)
    n = min(len(original), len(cropped))
    both = original.present[:n] & cropped.present[:n]
    expected = original.image[:n] * scale + OFFSET
    height = np.median(np.ptp(expected[both, 11:, 1], axis=1))
    err = np.linalg.norm(cropped.image[:n] - expected, axis=-1)[both][:, 11:]
    assert both.mean() >= 0.9 and np.median(err) <= 0.02 * height

    # Its features match the original clip's closely (same normalised pose, same frames).
    direct = video_to_features(find_dataset("real-video-dev") / CLIP)
    m = min(len(direct.features), len(feats.features))
    rows = direct.present[:m] & feats.present[:m]
    a, b = direct.features[:m][rows], feats.features[:m][rows]
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert np.median(cos) >= 0.95


def test_a_large_video_without_anybody_still_says_no_person(tmp_path):
    rng = np.random.default_rng(0)
    frames = (rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(10))
    path = write_frames(tmp_path / "noise.mp4", frames, fps=VIDEO_FPS)
    with pytest.raises(NoPersonError, match="no person was found"):
        video_to_features(path)


def test_resize_and_cut():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    assert np.array_equal(resize(img[:40, :40], 40), img[:40, :40])                 # same size: unchanged
    assert np.array_equal(resize(np.full((7, 7, 3), 33, np.uint8), 50), np.full((50, 50, 3), 33, np.uint8))
    pil = np.asarray(Image.fromarray(img[:40, :40]).resize((CROP_PX, CROP_PX), Image.BILINEAR)).astype(int)
    assert np.abs(resize(img[:40, :40], CROP_PX).astype(int) - pil).mean() < 2        # Pillow's bilinear
    outside = cut(img, -100, -100, 50)                                              # wholly outside: grey
    assert outside.shape == (CROP_PX, CROP_PX, 3) and (outside == 114).all()
    part = cut(img, 50, 30, 20)                                                     # half outside on two sides
    assert (part[:CROP_PX // 2 - 8, :CROP_PX // 2 - 8] != 114).any() and (part[-20:, -20:] == 114).all()
