"""The lean add-on (issue 15): what the platform zip weighs installed, how fast it enables and answers, and the same
figures for today's torch path measured in the same run.

- Footprint per platform: the zip, and what Blender unpacks from it (add-on, bundled model and store, every
  bundled wheel uncompressed); baseline: the torch path's pinned packages (TORCH_PATH_REQUIREMENTS) as
  installed in this venv (Linux).
- Timings (this machine's platform): a fresh Blender (bpy module) installs the zip with only its wheels on
  the path (blender_tests/bundled_run.py), then enable, first query (model load), warm text, video and
  Find-similar queries; baseline: the add-on from the source tree with the venv's packages and
  LAVIMO_BACKEND=torch, same queries, same video, same store.
- Encoders alone: model load and warm text / video embedding, torch Embedder vs OnnxEmbedder (one thread each).
- Pose: MediaPipe imported whole vs the lean pose-only import, and one video's landmarks through each.
- Smaller text encoders (int8 weights; float16 weights, which ship), measured against a float32 export and torch.
Model: $LAVIMO_MODEL, else the one bench_store uses; its ONNX export is written when missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Lean add-on: bundled wheels, ONNX inference, no torch in Blender (issue 15)"
TARGETS = {"installed_mb": 300, "packages": 10, "enable_s": 1.0, "first_query_s": 3.0}
# What the Install dependencies button installed before the lean add-on (the commit before it; main's file is the
# lean list now): the torch path's packages.
TORCH_PATH_REQUIREMENTS = "1682874f046976c7d1f71f82379888a7bf68712c:lavimo_blender/deps/requirements.txt"


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model_and_store() -> tuple[Path, Path]:
    from lavimo_core.runtime.onnx_files import has_onnx, read_manifest
    model = Path(os.environ["LAVIMO_MODEL"]) if os.environ.get("LAVIMO_MODEL") else _bench_module("bench_store")._checkpoint()
    if not has_onnx(model) or read_manifest(model, verify=False).get("text_weights") != "float16":
        from lavimo_core.model.onnx_export import export_onnx
        export_onnx(model)         # missing, or written before the float16 text weights: what ships is measured
    return model, _bench_module("bench_addon")._store(model)


def installed_bytes(zip_path: Path) -> tuple[int, int]:
    """(bytes Blender unpacks from an extension zip, number of bundled third-party wheels)."""
    total, wheels = 0, 0
    with zipfile.ZipFile(zip_path) as zf:
        for item in zf.infolist():
            if item.filename.startswith("wheels/") and item.filename.endswith(".whl"):
                with zf.open(item) as raw, tempfile.TemporaryFile() as tmp:
                    tmp.write(raw.read())
                    with zipfile.ZipFile(tmp) as wheel:
                        total += sum(i.file_size for i in wheel.infolist())
                wheels += not item.filename.startswith("wheels/lavimo_core-")
            else:
                total += item.file_size
    return total, wheels


def _earlier_lean_bytes(platform: str) -> int:
    """What the earlier lean zip also installed: the bundled wheels' files build_addon now leaves out, and scipy's
    wheel (from the platform's wheel cache; 0 when it is not cached, as in a fresh clone)."""
    import fnmatch

    import build_addon
    total = 0
    for wheel in build_addon.platform_wheels(platform):
        patterns = build_addon.UNUSED_WHEEL_FILES.get(build_addon._dist_name(wheel.name.split("-")[0]), ())
        with zipfile.ZipFile(wheel) as zf:
            total += sum(i.file_size for i in zf.infolist()
                         if any(fnmatch.fnmatchcase(i.filename, p) for p in patterns))
    scipy = sorted(build_addon.wheel_cache(platform).glob("scipy-*.whl"))
    if not scipy:
        return 0
    with zipfile.ZipFile(scipy[-1]) as zf:
        return total + sum(i.file_size for i in zf.infolist())


def torch_path_bytes() -> tuple[int, int]:
    """(installed bytes, packages) of the torch path's pinned dependencies, as installed in this venv."""
    from importlib.metadata import PackageNotFoundError, distribution
    text = subprocess.run(["git", "show", TORCH_PATH_REQUIREMENTS], cwd=ROOT, capture_output=True, text=True).stdout
    total, count = 0, 0
    for line in text.splitlines():
        name = line.split("#")[0].split("==")[0].strip()
        if not name:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        count += 1
        total += sum((f.size or 0) for f in dist.files or [])
    return total, count


def blender_env(scenario: str, tmp: str, model: Path, store: Path, extra: dict) -> dict:
    """The environment of one Blender run: the source scenario imports lavimo_blender from this checkout (its
    script's folder is blender_tests/, so the root must be on PYTHONPATH); a zip scenario sees only the zip."""
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(tmp) / "user"), LAVIMO_TEST_MODEL=str(model),
               LAVIMO_TEST_STORE=str(store), **extra)
    if scenario == "source":
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    else:
        env.pop("PYTHONPATH", None)
    return env


def _blender(scenario: str, zip_path: Path | None, video: Path, model: Path, store: Path, env: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "out.json"
        env = blender_env(scenario, tmp, model, store, env)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(ROOT / "blender_tests" / "bundled_run.py"), str(zip_path or ""),
                               scenario, str(video), str(report)], env=env, capture_output=True, text=True,
                              cwd=tmp if scenario != "source" else ROOT, timeout=900)
        if proc.returncode != 0 or not report.is_file():
            raise RuntimeError(f"{scenario}: {(proc.stdout + proc.stderr)[-2000:]}")
        out = json.loads(report.read_text())
        out["process_seconds"] = time.perf_counter() - t0
        return out


def _encoders(model: Path, video_features) -> dict:
    """Load and warm embedding times, torch vs ONNX, in this process (one thread each)."""
    import torch

    from lavimo_core.model.embedder import Embedder
    from lavimo_core.runtime.onnx_embedder import OnnxEmbedder
    torch.set_num_threads(1)
    out = {}
    for name, load in (("torch", lambda: Embedder.from_checkpoint(model)),
                       ("onnx", lambda: OnnxEmbedder.from_checkpoint(model))):
        t = time.perf_counter()
        emb = load()
        emb.embed_text(["warm up"])
        out[f"{name}_load_s"] = time.perf_counter() - t
        text, video = [], []
        for i in range(15):
            t = time.perf_counter()
            emb.embed_text([f"a person walks forward {i}"])
            text.append(time.perf_counter() - t)
            t = time.perf_counter()
            emb.embed_video([video_features])
            video.append(time.perf_counter() - t)
        out[f"{name}_text_ms"] = 1000 * statistics.median(text)
        out[f"{name}_video_ms"] = 1000 * statistics.median(video)
    return out


_POSE = """
import sys, time, json
t = time.perf_counter()
{prelude}
from lavimo_core.video.features import video_to_features
from lavimo_core.video.mediapipe_pose import pose_solution
pose_solution()
imported = time.perf_counter() - t
t = time.perf_counter()
v = video_to_features(sys.argv[1])
print(json.dumps({{"import_s": imported, "video_s": time.perf_counter() - t, "frames": len(v.present),
                  "modules": len({{m.split('.')[0] for m in sys.modules}})}}))
"""


def _pose(video: Path) -> dict:
    out = {}
    for name, prelude in (("full", "import mediapipe"), ("lean", "")):
        runs = []
        for _ in range(2):
            proc = subprocess.run([sys.executable, "-c", _POSE.format(prelude=prelude), str(video)], cwd=ROOT,
                                  capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        out[name] = min(runs, key=lambda r: r["import_s"] + r["video_s"])
    return out


def run() -> str:
    """Measure and return the markdown section."""
    import build_addon
    from lavimo_blender.deps.bundle import current_platform
    from lavimo_core.motion.load import load_motion
    from lavimo_core.paths import find_dataset
    from lavimo_core.synthesis.render import Camera, write_video
    from lavimo_core.video.features import video_to_features

    model, store = _model_and_store()
    here = current_platform()
    dist = Path(tempfile.mkdtemp(prefix="lavimo-bench-lean-"))
    sizes = {}
    for platform in sorted(build_addon.PLATFORM_TAGS):
        zip_path = build_addon.build(dist / platform, model=model, store=store, platform=platform)
        sizes[platform] = (zip_path, zip_path.stat().st_size, *installed_bytes(zip_path))
    torch_zip = build_addon.build(dist / "torch", model=model, store=store)
    torch_bytes, torch_packages = torch_path_bytes()

    bvh = sorted((find_dataset("bandai-namco-1") / "data").glob("*.bvh"))[3]
    video = write_video(dist / "reference.mp4", load_motion(bvh), Camera(azimuth=20.0, size=(320, 240)), fps=20.0)
    lean = _blender("bundled", sizes[here][0], video, model, store, {}) if here in sizes else None
    torch_run = _blender("source", None, video, model, store, {"LAVIMO_BACKEND": "torch"})
    enc = _encoders(model, video_to_features(video))
    pose = _pose(video)
    int8 = _text_variant(model, _int8)
    fp16 = _text_variant(model, _float16)

    mb = lambda b: f"{b / 1e6:.0f} MB"   # noqa: E731
    out = [f"Model: `{model.name}` (text encoder = MiniLM-L6 backbone + head, ONNX with float16 weights). Store: every "
           "Bandai-Namco-1 clip. Timings on this machine's platform "
           f"({here}), one Blender process each, bpy module {_bpy_version()}.", ""]
    out.append("| platform | zip | installed in Blender | the same with scipy and whole wheels (earlier lean zip) "
               "| packages besides Blender's | target |")
    out.append("|---|---:|---:|---:|---:|---|")
    for platform, (_, zsize, ibytes, wheels) in sizes.items():
        ok = ibytes <= TARGETS["installed_mb"] * 1e6 and wheels <= TARGETS["packages"]
        earlier = _earlier_lean_bytes(platform)
        out.append(f"| {platform} (lean, ONNX) | {mb(zsize)} | {mb(ibytes)} | "
                   f"{mb(ibytes + earlier) if earlier else '-'} | {wheels} | "
                   f"{'met' if ok else 'NOT met'} (<= 300 MB, <= 10) |")
    out.append(f"| today (torch path, {here}) | {mb(torch_zip.stat().st_size)} + pip download | "
               f"{mb(torch_bytes + installed_bytes(torch_zip)[0])} | | {torch_packages} | baseline |")
    out.append("")
    if lean is not None:
        out.append("| step | lean zip (ONNX, bundled wheels) | today (torch, venv packages) | target |")
        out.append("|---|---:|---:|---|")
        rows = [("Install from Disk (unpack wheels + enable)", lean["install_seconds"], None, None),
                ("enable the add-on (import + register, packages in place)", lean["enable_seconds"],
                 torch_run["enable_seconds"], TARGETS["enable_s"]),
                ("first text query after enabling (model load)", lean["first_text_seconds"],
                 torch_run["first_text_seconds"], TARGETS["first_query_s"]),
                ("Install from Disk -> first result", lean["install_seconds"] + lean["first_text_seconds"], None, None),
                ("warm text query", lean["warm_text_seconds"], torch_run["warm_text_seconds"], None),
                ("video query (decode + pose + encode)", lean["video_seconds"], torch_run["video_seconds"], None),
                ("Find similar (read action + query)", lean["similar_seconds"], torch_run["similar_seconds"], None)]
        for name, a, b, target in rows:
            cell_b = "" if b is None else f"{b:.2f} s"
            verdict = "" if target is None else ("met" if a <= target else "NOT met") + f" (<= {target:g} s)"
            if target is None and b is not None:
                verdict = "no slower" if a <= b * 1.05 else "slower"
            out.append(f"| {name} | {a:.2f} s | {cell_b} | {verdict} |")
        out.append("")
        out.append(f"Modules imported by the lean run among torch/transformers/jax/cv2/matplotlib/sounddevice/scipy: "
                   f"{lean['heavy'] or 'none'}; the torch run: {torch_run['heavy']}.")
        out.append("")
    out.append("Encoders alone (this process, one thread): load + first text, warm text query, warm video query.")
    out.append("")
    out.append("| embedder | load | text query | video query |")
    out.append("|---|---:|---:|---:|")
    for name in ("onnx", "torch"):
        out.append(f"| {name} | {enc[f'{name}_load_s']:.2f} s | {enc[f'{name}_text_ms']:.1f} ms | "
                   f"{enc[f'{name}_video_ms']:.1f} ms |")
    out.append("")
    out.append("MediaPipe Pose on the same video: imported whole (today) vs pose-only (lean, same graph and landmarks).")
    out.append("")
    out.append("| import | import time | video -> features | frames | top-level modules loaded |")
    out.append("|---|---:|---:|---:|---:|")
    for name in ("lean", "full"):
        p = pose[name]
        out.append(f"| {name} | {p['import_s']:.2f} s | {p['video_s']:.2f} s | {p['frames']} | {p['modules']} |")
    out.append("")
    out.append("Smaller text encoders against a float32 export of the same checkpoint. Criterion: embeddings with "
               "cosine >= 0.999 to torch, top-10 rankings identical to torch up to clips whose scores tie within "
               "1e-4, R@k within 0.5 points. float16 weights meet it and ship (the sizes above include them); "
               "int8 does not.")
    out.append("")
    out += _variant_lines("int8 weights (onnxruntime quantize_dynamic, QInt8)", int8)
    out += _variant_lines("float16 weights, shipped (Cast to float32 folded at load: compute stays float32)", fp16)
    out.append("; ".join(f"{name} {'meets' if _meets(r) else 'misses'} the criterion"
                         for name, r in (("int8", int8), ("float16", fp16))) + ".")
    return "\n".join(out)


def _int8(src: Path, dst: Path) -> None:
    """The text encoder with int8 weights (onnxruntime quantize_dynamic, QInt8)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


def _float16(src: Path, dst: Path) -> None:
    """The text encoder with float16 weights, as `lavimo_core.model.onnx_export` ships it."""
    import shutil

    from lavimo_core.model.onnx_export import store_weights_float16
    shutil.copyfile(src, dst)
    store_weights_float16(dst)


def _text_variant(original: Path, convert) -> dict:
    """A copy of the model whose text encoder `convert` rewrote, against the fp32 ONNX one and torch: size, speed,
    cosine on the test captions, top-10 rankings over the test clips, and text->motion R@k (5 caption draws)."""
    import json as json_
    import shutil

    import numpy as np

    from lavimo_core.eval.run import evaluate
    from lavimo_core.file_hash import file_sha256
    from lavimo_core.model.embedder import Embedder
    from lavimo_core.model.onnx_export import export_onnx
    from lavimo_core.runtime.onnx_embedder import OnnxEmbedder
    from lavimo_core.train.data import load_splits
    with tempfile.TemporaryDirectory() as tmp:
        # The reference: the same checkpoint with a float32 text encoder (the export ships float16 weights).
        model = Path(tmp) / "fp32"
        shutil.copytree(original, model, ignore=shutil.ignore_patterns("onnx", "resume"))
        export_onnx(model, text_float16=False)
        copy = Path(tmp) / "model"
        shutil.copytree(model, copy)
        text = copy / "onnx" / "text.onnx"
        convert(model / "onnx" / "text.onnx", text)
        export = json_.loads((copy / "onnx" / "export.json").read_text())
        export["files"]["text"]["sha256"] = file_sha256(text)
        (copy / "onnx" / "export.json").write_text(json_.dumps(export))
        fp32, other, torch_ = OnnxEmbedder.from_checkpoint(model), OnnxEmbedder.from_checkpoint(copy), \
            Embedder.from_checkpoint(model)
        test = load_splits(json_.loads((model / "config.json").read_text())["train"]["dataset"]).test
        captions = sorted({c for m in test for c in m.captions})
        a, b, t = fp32.embed_text(captions), other.embed_text(captions), torch_.embed_text(captions)
        motions = torch_.embed_motion(test)
        top10 = lambda e: np.argsort(-(e @ motions.T), 1)[:, :10]   # noqa: E731
        differ = np.flatnonzero((top10(b) != top10(t)).any(1))
        scores = np.sort(t @ motions.T, 1)[:, ::-1]
        recall = {p: [{}, {}] for p in ("a", "b-content", "b-content+style")}
        for i, emb in enumerate((fp32, other)):
            runs = [evaluate(model, "test", video=False, seed=s, embedder=emb)[0]["t2m"] for s in range(5)]
            for p in recall:
                recall[p][i] = {k: 100 * float(np.mean([r[p][k] for r in runs])) for k in ("R@1", "R@5")}
        times = {}
        for name, emb in (("fp32", fp32), ("other", other)):
            emb.embed_text(["warm up"])
            t0 = time.perf_counter()
            for i in range(20):
                emb.embed_text([f"a person walks forward {i}"])
            times[name] = 1000 * (time.perf_counter() - t0) / 20
        return {"mb_fp32": (model / "onnx" / "text.onnx").stat().st_size / 1e6, "mb": text.stat().st_size / 1e6,
                "ms_fp32": times["fp32"], "ms": times["other"], "cos_min": float((a * b).sum(1).min()),
                "cos_min_torch": float((b * t).sum(1).min()), "captions": len(captions),
                "same_top10": 1.0 - len(differ) / len(captions), "differ": len(differ),
                # the closest gap between two consecutive top-10 scores (torch) among the captions that changed
                "tie_gap": float(min((np.diff(-scores[i, :10]).min() for i in differ), default=float("nan"))),
                "recall": recall}


def _meets(r: dict) -> bool:
    """Whether a text encoder variant keeps the criterion: cosine >= 0.999 to torch, top-10s identical up to
    ties within 1e-4, R@k within 0.5 points of the float32 export."""
    recall_ok = all(abs(a[k] - b[k]) <= 0.5 for a, b in r["recall"].values() for k in a)
    return r["cos_min_torch"] >= 0.999 and (r["differ"] == 0 or r["tie_gap"] < 1e-4) and recall_ok


def _variant_lines(name: str, r: dict) -> list[str]:
    out = [f"{name}: text encoder {r['mb_fp32']:.0f} MB -> {r['mb']:.0f} MB, text query {r['ms_fp32']:.1f} -> "
           f"{r['ms']:.1f} ms; cosine to the fp32 ONNX embeddings on the {r['captions']} test captions min "
           f"{r['cos_min']:.7f} (to torch {r['cos_min_torch']:.7f}); top-10 over the test clips identical to torch "
           f"for {r['captions'] - r['differ']} of {r['captions']} captions"
           + (f" (where not, the closest two torch scores were {r['tie_gap']:.1e} apart)" if r["differ"] else "")
           + ". text->motion on the test split, mean of 5 caption draws (fp32 vs this):", "",
           "| protocol | R@1 | R@5 |", "|---|---:|---:|"]
    for p, (a, b) in r["recall"].items():
        out.append(f"| {p} | {a['R@1']:.1f} vs {b['R@1']:.1f} | {a['R@5']:.1f} vs {b['R@5']:.1f} |")
    return out + [""]


def _bpy_version() -> str:
    from importlib.metadata import version
    return version("bpy")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(run())
