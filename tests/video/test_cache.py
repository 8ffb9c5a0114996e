"""The rendered-track cache: hits, misses on any key change, stale versions, damaged entries, no pickle."""

from __future__ import annotations

import numpy as np

from lavimo_core.motion.motion import Motion
from lavimo_core.synthesis.cache import TrackCache
from lavimo_core.synthesis.camera import Camera
from lavimo_core.synthesis.prepare import dataset_cameras, prepare_rendered_features
from lavimo_core.synthesis.rendered import rendered_video_features
from lavimo_core.video.track import PoseTrack


def a_track(n: int = 5) -> PoseTrack:
    rng = np.random.default_rng(0)
    return PoseTrack(rng.random((n, 33, 2), np.float32), rng.random((n, 33, 3), np.float32),
                     rng.random((n, 33), np.float32), np.array([True, False, True, True, False][:n]), (320, 240), 10.0)


def test_round_trip_and_keys(tmp_path, bye):
    cache = TrackCache("r1", "t1", root=tmp_path)
    cam = Camera(azimuth=10, seed=1)
    assert cache.get(bye, cam) is None
    track = a_track()
    cache.put(bye, cam, track)
    got = cache.get(bye, cam)
    assert np.array_equal(got.image, track.image) and np.array_equal(got.present, track.present)
    assert got.size == (320, 240) and got.fps == 10.0
    assert cache.get(bye, Camera(azimuth=11, seed=1)) is None                 # another camera
    moved = Motion(bye.name, bye.joints + np.float32(0.01), bye.fps)
    assert cache.get(moved, cam) is None                                        # other content, same name
    renamed = Motion("other-name", bye.joints, bye.fps)
    assert cache.get(renamed, cam) is not None                                  # content, not name, is the key
    assert TrackCache("r2", "t1", root=tmp_path).get(bye, cam) is None          # renderer changed
    assert TrackCache("r1", "t2", root=tmp_path).get(bye, cam) is None          # featurizer changed
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]             # atomic writes
    for npz in tmp_path.rglob("*.npz"):
        np.load(npz, allow_pickle=False).close()
    assert TrackCache("r2", "t1", root=tmp_path).prune() == 1                   # stale versions go
    assert cache.get(bye, cam) is None


def test_damaged_entry_is_a_miss(tmp_path, bye):
    cache = TrackCache("r1", "t1", root=tmp_path)
    cam = Camera(seed=2)
    cache.put(bye, cam, a_track())
    npz = next(tmp_path.rglob("*.npz"))
    npz.write_bytes(npz.read_bytes()[:40])
    assert cache.get(bye, cam) is None
    cache.put(bye, cam, a_track())
    assert cache.get(bye, cam) is not None


def test_rendered_features_come_from_the_cache_the_second_time(tmp_path, monkeypatch, bye):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path))
    short = Motion(bye.name, bye.joints[:20], bye.fps)
    cam = Camera(azimuth=20, size=(320, 240), seed=3)
    first = rendered_video_features(short, cam)
    assert first.features.shape[0] == 10 and first.detection_rate > 0.8

    def no_render(*a, **k):
        raise AssertionError("rendered again instead of reading the cache")

    monkeypatch.setattr("lavimo_core.synthesis.render.render_joints", no_render)
    again = rendered_video_features(short, cam)
    assert np.array_equal(first.features, again.features)


def test_prepare_a_dataset(tmp_path, monkeypatch, bye, walk):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path))
    clips = [Motion(bye.name, bye.joints[:16], bye.fps), Motion(walk.name, walk.joints[:16], walk.fps)]
    cams = dataset_cameras(clips[0], 2)
    assert cams == dataset_cameras(clips[0], 2) and cams[0] != cams[1]          # fixed per clip content
    feats = prepare_rendered_features(clips, 2, progress=False)
    assert sorted(feats) == sorted(m.name for m in clips)
    assert all(len(v) == 2 for v in feats.values())
    assert all(f.features.shape[0] == 8 for v in feats.values() for f in v)
    assert len(list(tmp_path.rglob("*.npz"))) == 4
    monkeypatch.setattr("lavimo_core.synthesis.render.render_joints",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("not cached")))
    assert prepare_rendered_features(clips, 2, progress=False).keys() == feats.keys()
