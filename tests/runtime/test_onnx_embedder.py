"""The ONNX export of the real tiny model against the torch model it came from, and its bad-input errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lavimo_core.runtime import onnx_files
from lavimo_core.runtime.backend import choose_backend, open_embedder
from lavimo_core.runtime.onnx_embedder import OnnxEmbedder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def onnx_embedder(trained_model):
    return OnnxEmbedder.from_checkpoint(trained_model)


@pytest.fixture(scope="module")
def test_split():
    from lavimo_core.train.data import load_splits
    return load_splits("bandai-namco-1").test


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape and a.dtype == np.float32
    return (a * b).sum(1)


def test_training_writes_a_verified_onnx_export(trained_model, onnx_embedder, embedder):
    export = onnx_files.read_manifest(trained_model)
    assert set(export["files"]) == {"text", "motion", "video", "tokenizer"}
    assert export["weights_sha256"] == embedder.weights_hash
    assert (onnx_embedder.model_id, onnx_embedder.weights_hash, onnx_embedder.dim) == \
        (embedder.model_id, embedder.weights_hash, embedder.dim)
    assert onnx_embedder.window_frames == embedder.window_frames and onnx_embedder.has_video


def test_every_test_caption_matches_torch(onnx_embedder, embedder, test_split):
    captions = sorted({c for m in test_split for c in m.captions})
    queries = ["a person bows", "someone walks backwards sadly", "x", "ジャンプする人",
               "a person " + "walks and turns around and " * 20 + "sits down"]   # non-English, over 40 tokens
    texts = captions + queries
    assert len(captions) >= 40
    cos = _cosines(onnx_embedder.embed_text(texts), embedder.embed_text(texts))
    assert cos.min() >= 0.999, texts[int(cos.argmin())]
    for t in queries:
        assert onnx_embedder.count_text_tokens(t) == embedder.count_text_tokens(t)
    assert onnx_embedder.embed_text([]).shape == (0, embedder.dim)


def test_every_test_clip_matches_torch(onnx_embedder, embedder, test_split):
    cos = _cosines(onnx_embedder.embed_motion(test_split), embedder.embed_motion(test_split))
    assert cos.min() >= 0.999
    assert any(m.features.shape[0] > embedder.window_frames for m in test_split)  # windows averaged too
    one = _cosines(onnx_embedder.embed_motion(test_split[:1]), embedder.embed_motion(test_split[:1]))
    assert one.min() >= 0.999


def test_video_of_every_test_clip_matches_torch(onnx_embedder, embedder, test_split):
    from lavimo_core.eval.video_queries import eval_camera
    from lavimo_core.synthesis.projected import motion_to_video_features

    # Projected landmarks with MediaPipe-like noise (missed frames included) for every test clip ...
    videos = [motion_to_video_features(m, eval_camera(m, 0), np.random.default_rng(i)) for i, m in enumerate(test_split)]
    assert any(not v.present.all() for v in videos)
    cos = _cosines(onnx_embedder.embed_video(videos), embedder.embed_video(videos))
    assert cos.min() >= 0.999


def test_real_videos_match_torch(onnx_embedder, embedder):
    from lavimo_core.paths import find_dataset
    from lavimo_core.video.features import video_to_features

    # ... and real camera clips through decode -> MediaPipe (the small ones keep the test quick).
    folder = find_dataset("real-video-dev")
    clips = sorted(folder.glob("*/weizmann_*.mp4"))[:3] + sorted(folder.glob("*/football_sit0.mp4"))
    videos = [video_to_features(p) for p in clips]
    cos = _cosines(onnx_embedder.embed_video(videos), embedder.embed_video(videos))
    assert len(videos) == 4 and cos.min() >= 0.999


def test_rankings_on_benchmark_queries_are_identical(onnx_embedder, embedder, test_split):
    from lavimo_core.eval.run import evaluate
    motions_onnx, motions_torch = onnx_embedder.embed_motion(test_split), embedder.embed_motion(test_split)
    captions = [m.captions[0] for m in test_split]
    scores_torch = embedder.embed_text(captions) @ motions_torch.T
    order_onnx = np.argsort(-(onnx_embedder.embed_text(captions) @ motions_onnx.T), axis=1)[:, :10]
    order_torch = np.argsort(-scores_torch, axis=1)[:, :10]
    # Identical top-10s, except that two clips whose torch scores tie to 1e-4 may swap (float16 text weights:
    # measured, one swap of two clips 1.7e-5 apart on 138 captions; 1.7% of places swapped, all ties under
    # 7.7e-5, for a tiny model trained on 8 captions per clip, whose scores tie more often).
    ranked = np.take_along_axis(scores_torch, order_onnx, 1) - np.take_along_axis(scores_torch, order_torch, 1)
    assert np.abs(ranked).max() < 1e-4 and (order_onnx == order_torch).mean() >= 0.95
    # The benchmark's own evaluation (text and motion directions): R@k within 0.5 points.
    ckpt = embedder.folder
    r_onnx, _ = evaluate(ckpt, "test", video=False, embedder=onnx_embedder)
    r_torch, _ = evaluate(ckpt, "test", video=False, embedder=embedder)
    flat = lambda r: {(d, p, k): v for d, ps in r.items() for p, ks in ps.items()  # noqa: E731
                      for k, v in ks.items() if k.startswith("R@")}
    a, b = flat(r_onnx), flat(r_torch)
    assert a.keys() == b.keys() and max(abs(a[k] - b[k]) for k in a) <= 0.005


def test_addon_path_never_imports_torch_transformers_or_scipy(trained_model, built_store):
    """What the Blender add-on does, with torch, transformers, jax, OpenCV and scipy unimportable: index BVH files,
    text, video and Find-similar queries through the Engine, and a clip cut and retargeted onto rigs (with the
    source file's rotations, foot contacts and every Blender rotation mode): the zip carries none of them."""
    code = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('torch', 'transformers', 'jax', 'cv2', 'scipy'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import shutil, tempfile
from lavimo_core.engine import Engine
from lavimo_core.motion.motion import Motion
from lavimo_core.paths import find_dataset
from lavimo_core.query import MotionQuery, TextQuery, VideoQuery
from lavimo_core.retarget import RetargetOptions, detect_bone_map
from lavimo_core.retarget.rig_presets import preset_rig
from lavimo_core.retarget.rotations import ROTATION_MODES, rotation_channels
from lavimo_core.retarget.solve import solve
from lavimo_core.retarget.source_pose import source_pose
from lavimo_core.retarget.trim import cut_range, cut_source_pose
from lavimo_core.runtime.backend import open_embedder
from lavimo_core.store import Store
from lavimo_core.store.build import build_store, load_source

emb = open_embedder({str(trained_model)!r})
assert type(emb).__name__ == 'OnnxEmbedder', type(emb)
with tempfile.TemporaryDirectory() as folder:   # indexing a folder of BVH files
    for f in sorted((find_dataset('bandai-namco-1') / 'data').glob('*.bvh'))[:3]:
        shutil.copy(f, folder)
    motions, _ = load_source(folder)
    build_store(motions, emb, folder + '/store', model_path={str(trained_model)!r})
    print('indexed', len(Store.open(folder + '/store').ids()))
engine = Engine(emb, Store.open({str(built_store)!r}))
text = engine.run(TextQuery('a person bows'))
video = sorted(find_dataset('real-video-dev').glob('*/weizmann_*.mp4'))[0]
seen = engine.run(VideoQuery(str(video)))
whole = engine.store.motion(engine.store.ids()[10])
similar = engine.run(MotionQuery(Motion(name='armature', joints=whole.joints)))   # Find similar: no features
assert not (text.error or seen.error or similar.error), (text.error, seen.error, similar.error)
print('hits', len(text.hits), len(seen.hits), len(similar.hits))
for rig_name in ('rigify', 'mixamo'):
    motion, first, _ = cut_range(whole, (0.5, 2.0), 5, 30.0)
    source, why = source_pose(whole, 30.0)
    source = cut_source_pose(source, whole, motion, first, 30.0)
    rig = preset_rig(rig_name)
    result = solve(motion, rig, detect_bone_map(rig), RetargetOptions(fps=30.0), source)
    modes = dict(zip(result.rotations, ROTATION_MODES * 100))
    channels = rotation_channels(result.rotations, modes)
    print(rig_name, len(channels), result.report.contacts, bool(result.report.transferred))
print('scipy' in sys.modules, 'torch' in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "indexed 3" in proc.stdout and "hits 10 10 10" in proc.stdout, proc.stdout
    assert "rigify" in proc.stdout and "mixamo" in proc.stdout and "False False" in proc.stdout, proc.stdout


def test_backend_choice(trained_model, tmp_path, monkeypatch):
    monkeypatch.delenv("LAVIMO_BACKEND", raising=False)
    assert choose_backend(trained_model) == "onnx"
    assert choose_backend(trained_model, device="cuda") == "torch"
    monkeypatch.setenv("LAVIMO_BACKEND", "torch")
    assert choose_backend(trained_model) == "torch"
    monkeypatch.setenv("LAVIMO_BACKEND", "auto")
    old = _copy_checkpoint(trained_model, tmp_path / "old", onnx=False)
    assert choose_backend(old) == "torch"      # an old checkpoint still runs where torch is installed
    assert type(open_embedder(old)).__name__ == "Embedder"


def _copy_checkpoint(src: Path, dst: Path, onnx: bool = True) -> Path:
    shutil.copytree(src, dst, ignore=None if onnx else shutil.ignore_patterns(onnx_files.FOLDER))
    return dst


def test_old_checkpoint_without_onnx_says_to_export(trained_model, tmp_path):
    old = _copy_checkpoint(trained_model, tmp_path / "old", onnx=False)
    with pytest.raises(onnx_files.OnnxModelError, match=r"no ONNX files.*lavimo export-onnx"):
        OnnxEmbedder.from_checkpoint(old)


def test_onnx_from_other_weights_is_refused(trained_model, tmp_path):
    ckpt = _copy_checkpoint(trained_model, tmp_path / "ck")
    weights = ckpt / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1   # retrained or replaced weights: the export no longer belongs to them
    weights.write_bytes(bytes(data))
    with pytest.raises(onnx_files.OnnxModelError, match=r"exported from other weights.*export-onnx"):
        OnnxEmbedder.from_checkpoint(ckpt)


def test_damaged_or_missing_onnx_file_is_refused(trained_model, tmp_path):
    ckpt = _copy_checkpoint(trained_model, tmp_path / "ck")
    with open(ckpt / "onnx" / "motion.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"\0\0\0\0")
    with pytest.raises(onnx_files.OnnxModelError, match=r"motion\.onnx \(motion\) is damaged"):
        OnnxEmbedder.from_checkpoint(ckpt)
    shutil.copy2(trained_model / "onnx" / "motion.onnx", ckpt / "onnx" / "motion.onnx")
    (ckpt / "onnx" / "video.onnx").unlink()
    with pytest.raises(onnx_files.OnnxModelError, match=r"video\.onnx \(video\) is missing"):
        OnnxEmbedder.from_checkpoint(ckpt)
    (ckpt / "onnx" / "export.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(onnx_files.OnnxModelError, match="not a LAVIMO ONNX export"):
        OnnxEmbedder.from_checkpoint(ckpt)


def test_export_onnx_command_exports_an_old_checkpoint(trained_model, tmp_path, embedder):
    from lavimo_core.cli import main
    old = _copy_checkpoint(trained_model, tmp_path / "old", onnx=False)
    assert main(["export-onnx", str(old)]) == 0
    emb = OnnxEmbedder.from_checkpoint(old)
    texts = ["a person bows", "someone runs in a circle"]
    assert _cosines(emb.embed_text(texts), embedder.embed_text(texts)).min() >= 0.999
