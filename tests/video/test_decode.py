"""Decoding real files made from rendered motions: containers and codecs, rotation, variable frame rate,
sampling, time ranges, streaming, and every bad input the add-on may be handed."""

from __future__ import annotations

import types

import av
import numpy as np
import pytest

from lavimo_core.errors import LavimoError
from lavimo_core.video.decode import TimedFrames, iter_frames, probe
from lavimo_core.video.encode import write_frames
from lavimo_core.video.errors import CorruptVideoError, EmptyVideoError, NotAVideoError, VideoError


def closest(frame: np.ndarray, originals: list[np.ndarray]) -> int:
    """Index of the original frame a decoded frame shows (robust to lossy coding)."""
    return int(np.argmin([np.abs(frame.astype(int) - o.astype(int)).mean() for o in originals]))


@pytest.mark.parametrize("suffix,codec,name", [
    (".mp4", "libx264", "h264"), (".mov", "libx264", "h264"), (".mkv", "libx265", "hevc"),
    (".webm", "libvpx-vp9", "vp9"), (".avi", "mjpeg", "mjpeg"), (".avi", "mpeg4", "mpeg4"),
])
def test_containers_and_codecs_decode_to_the_rendered_frames(tmp_path, bye_frames, suffix, codec, name):
    frames = bye_frames[:12]
    path = write_frames(tmp_path / f"clip{suffix}", frames, fps=10.0, codec=codec)
    info = probe(path)
    assert (info.width, info.height) == (320, 240)
    assert info.codec == name
    assert info.fps == pytest.approx(10.0, abs=0.01)
    got = list(iter_frames(path, fps=10.0))
    assert [round(t, 3) for t, _ in got] == [round(i / 10, 3) for i in range(12)]
    for i, (_, rgb) in enumerate(got):
        assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
        assert closest(rgb, frames) == i
        assert np.abs(rgb.astype(int) - frames[i].astype(int)).mean() < 6


def test_sampling_picks_every_third_frame_of_a_30fps_clip(tmp_path, bye_frames):
    frames = bye_frames[:30]
    path = write_frames(tmp_path / "c30.mp4", frames, fps=30.0)
    got = list(iter_frames(path, fps=10.0))
    assert len(got) == 10
    assert [closest(f, frames) for _, f in got] == list(range(0, 30, 3))
    # Without a target rate, every frame with its own time.
    every = list(iter_frames(path))
    assert len(every) == 30 and every[1][0] == pytest.approx(1 / 30, abs=1e-3)


def test_rotation_metadata_is_applied(tmp_path, bye_frames):
    upright = bye_frames[:5]
    # Stored sideways (as a phone held upright stores it), with a display matrix saying "turn 90 deg CCW".
    stored = [np.ascontiguousarray(np.rot90(f, -1)) for f in upright]
    path = write_frames(tmp_path / "phone.mp4", stored, fps=10.0, rotation=90)
    info = probe(path)
    assert info.rotation == 90
    assert (info.width, info.height) == (320, 240)      # as displayed
    for i, (_, rgb) in enumerate(iter_frames(path, fps=10.0)):
        assert rgb.shape == (240, 320, 3)
        assert np.abs(rgb.astype(int) - upright[i].astype(int)).mean() < 6


def test_variable_frame_rate_picks_the_frame_nearest_each_sample_time(tmp_path, bye_frames):
    frames = bye_frames[:12]
    stamps = np.cumsum([0, 0.03, 0.09, 0.02, 0.15, 0.04, 0.05, 0.11, 0.06, 0.03, 0.17, 0.07])
    path = write_frames(tmp_path / "vfr.mkv", frames, fps=10.0, time_stamps=stamps)
    got = list(iter_frames(path, fps=10.0))
    targets = [t for t, _ in got]
    assert targets == pytest.approx([k / 10 for k in range(len(got))])
    expected = [int(np.argmin(np.abs(stamps - t))) for t in targets]
    assert [closest(f, frames) for _, f in got] == expected
    assert len(got) == int(stamps[-1] * 10) + 1


def test_time_range_and_seek(tmp_path, bye_frames):
    frames = bye_frames[:30]
    path = write_frames(tmp_path / "range.mp4", frames, fps=10.0)
    got = list(iter_frames(path, fps=10.0, start=1.2, end=2.0))
    assert [round(t, 2) for t, _ in got] == [1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    assert [closest(f, frames) for _, f in got] == list(range(12, 20))


def test_frames_stream_one_at_a_time(tmp_path, bye_frames):
    path = write_frames(tmp_path / "s.mp4", bye_frames, fps=10.0)
    gen = iter_frames(path, fps=10.0)
    assert isinstance(gen, types.GeneratorType)
    timed = TimedFrames(gen)
    first = next(timed)
    assert first[0] == 0.0 and timed.count == 1 and timed.seconds > 0
    gen.close()   # stopping early closes the container


# ---------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(NotAVideoError, match="does not exist"):
        probe(tmp_path / "nope.mp4")


def test_folder_is_not_a_video(tmp_path):
    with pytest.raises(NotAVideoError, match="folder"):
        list(iter_frames(tmp_path))


def test_text_file_is_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("these are my notes, not a video\n" * 20)
    with pytest.raises(NotAVideoError, match="not a video file") as e:
        probe(p)
    assert str(p) in str(e.value)
    assert isinstance(e.value, LavimoError)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    with pytest.raises(EmptyVideoError, match="empty"):
        list(iter_frames(p))


def test_truncated_mp4_is_corrupt(tmp_path, bye_frames):
    full = write_frames(tmp_path / "full.mp4", bye_frames, fps=10.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])   # the index (moov) is at the end: gone
    with pytest.raises(CorruptVideoError, match="corrupt or incomplete"):
        list(iter_frames(cut, fps=10.0))


def test_garbled_stream_with_intact_header(tmp_path, bye_frames):
    mkv = write_frames(tmp_path / "ok.mkv", bye_frames, fps=10.0)
    data = bytearray(mkv.read_bytes())
    rng = np.random.default_rng(0)
    start = 400                                     # keep the EBML header, garble everything after it
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    bad = tmp_path / "garbled.mkv"
    bad.write_bytes(bytes(data))
    with pytest.raises(VideoError):
        list(iter_frames(bad, fps=10.0))


def _write_audio(container, seconds: float = 1.0) -> None:
    """Mux a second of a 440 Hz tone into an open output container."""
    s = container.add_stream("aac", rate=16000)
    t = np.arange(int(16000 * seconds)) / 16000
    frame = av.AudioFrame.from_ndarray((np.sin(2 * np.pi * 440 * t) * 0.3).astype(np.float32)[None],
                                       format="fltp", layout="mono")
    frame.sample_rate = 16000
    for packet in s.encode(frame):
        container.mux(packet)
    for packet in s.encode(None):
        container.mux(packet)


def test_audio_only(tmp_path):
    p = tmp_path / "voice.m4a"
    with av.open(str(p), "w") as c:
        _write_audio(c)
    with pytest.raises(NotAVideoError, match="audio only"):
        probe(p)


def test_video_stream_without_frames(tmp_path):
    # A video track that never got a frame (a recorder stopped early), with sound.
    p = tmp_path / "hollow.mkv"
    with av.open(str(p), "w") as c:
        v = c.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        _write_audio(c)
    with pytest.raises(EmptyVideoError, match="no frames"):
        list(iter_frames(p, fps=10.0))


def test_range_past_the_end(tmp_path, bye_frames):
    path = write_frames(tmp_path / "short.mp4", bye_frames[:10], fps=10.0)
    with pytest.raises(EmptyVideoError, match="no frames between 5 s and 6 s"):
        list(iter_frames(path, fps=10.0, start=5.0, end=6.0))


def test_reversed_range(tmp_path, bye_frames):
    path = write_frames(tmp_path / "r.mp4", bye_frames[:10], fps=10.0)
    with pytest.raises(ValueError, match="after start"):
        list(iter_frames(path, fps=10.0, start=0.5, end=0.2))
