"""The steps of `lavimo demo`, one function each. Each reuses what an earlier run left behind while it is still valid.

Where things go: the model and the store are caches (under $LAVIMO_CACHE, keyed by the code, config and
data that made them), so `--out` folders share them and the add-on can use them too; everything a user
looks at (video, pictures, tables, demo.blend) goes under the output folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_atomic
from ..data.dataset import DEFAULT_DATASET, MotionDataset
from ..data.download import BANDAI_NAMCO_1, REPO_URL, RemoteDataset, download_dataset, manual_instructions
from ..errors import LavimoError
from ..paths import DatasetNotFoundError, cache_dir, data_roots, find_dataset

_PKG = Path(__file__).resolve().parent.parent
_REPO = _PKG.parent
# Code whose change must retrain the demo model / rebuild its store (as the repo-root conftest fixtures do).
MODEL_SOURCES = ("model", "train", "motion", "data", "video")
STORE_SOURCES = ("store", "motion", "data")
# The demo's library: every clip of both Bandai-Namco datasets (the shipped model trained on their train
# takes). Dataset 1 is required (downloaded when missing); dataset 2 joins it when it is on this machine.
LIBRARY_PARTS = (DEFAULT_DATASET, "bandai-namco-2-dev")

TEXT_QUERIES = ("a person walks backwards looking sad", "someone kicks", "a person bows politely",
                "a person juggles three balls")
# Nothing in either library juggles: with the default model this query shows the "no good match" state
# (P(library has a match) 7%: no training caption is worded like it, model/known_wording.py; "a person
# swims" 25%). Not every absent action is caught: "a person plays the piano" lands on a wave performed "like
# in a musical" at 62% (the demo's query until the wording check), "a person rides a horse" on a run at 70%.
VIDEO_QUERY_CONTENT = "bye"         # the video query shows a held-out test clip of this content (waving)
APPLY_QUERY = 0                     # the query whose best hit goes onto the armature in demo.blend
TOP_K = 5
BLENDER_TIMEOUT_S = 600


class DemoError(LavimoError):
    """A demo step could not run; the message says what to do."""


# ---------------------------------------------------------------------------------------------- 1. data

def find_or_download_dataset(*, allow_download: bool = True, progress: bool = True,
                             source: RemoteDataset = BANDAI_NAMCO_1) -> tuple[Path, bool]:
    """The Bandai-Namco-1 folder (LAVIMO_DATA, ../shared/data, ./data), downloading it into ./data when absent.

    Returns (folder, downloaded).
    """
    try:
        return find_dataset(DEFAULT_DATASET), False
    except DatasetNotFoundError as missing:
        dest = data_roots()[-1] / DEFAULT_DATASET    # ./data/bandai-namco-1 in the checkout: found there next time
        if not allow_download:
            raise DemoError(f"{missing}\n{manual_instructions(dest)}") from None
        print(f"The default dataset is not on this machine ({missing}).\n"
              f"Downloading Bandai-Namco-Research-Motiondataset-1 (about {source.zip_size / 1e6:.0f} MB) from\n"
              f"{REPO_URL}\ninto {dest} ...\n\n{source.license_notice}\n", flush=True)
        return download_dataset(dest, source, progress=progress), True


def library_spec() -> str:
    """The dataset spec of the demo's library: the parts of LIBRARY_PARTS found on this machine, joined by '+'."""
    found = [DEFAULT_DATASET]
    for part in LIBRARY_PARTS[1:]:
        try:
            find_dataset(part)
            found.append(part)
        except DatasetNotFoundError:
            print(f"{part} is not on this machine: the library holds the other datasets only.", flush=True)
    return "+".join(found)


def load_demo_dataset(spec: str = DEFAULT_DATASET, progress: bool = True) -> MotionDataset:
    """Load (and on the first run convert and cache) the demo's library datasets."""
    from ..data import load_dataset

    return load_dataset(spec, progress=progress)


# ---------------------------------------------------------------------------------------------- 2. model

def model_key(config) -> str:
    """Hash of what the model depends on: its config, the code that trains it, and the dataset's files."""
    h = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode())
    _hash_sources(h, MODEL_SOURCES)
    _hash_data_listing(h, config.train.dataset)
    return h.hexdigest()[:16]


def checkpoint_dir(config) -> Path:
    """Where the demo keeps the model trained with `config`: $LAVIMO_CACHE/models/<preset>-<key>."""
    return cache_dir("models") / f"{config.preset}-{model_key(config)}"


def ensure_model(preset_name: str, *, progress: bool = True) -> tuple[Path, bool]:
    """The checkpoint of preset `preset_name`, trained now if no up-to-date one exists. Returns (folder, reused).

    For "default", the model shipped in the checkout (models/default, verified against its SHA256SUMS) comes first.

    Training runs in `<folder>.partial` (an interrupted run resumes there) and is renamed when finished.
    """
    from ..model.config import preset
    from ..train.loop import train
    from .shipped import shipped_model

    if preset_name == "default" and (shipped := shipped_model()) is not None:
        return shipped, True
    config = preset(preset_name)
    out = checkpoint_dir(config)
    if (out / "checkpoint.json").is_file():
        return out, True
    partial = out.with_name(out.name + ".partial")
    config.train.progress = progress
    train(config, partial)
    shutil.rmtree(partial / "resume", ignore_errors=True)   # only needed to resume; the checkpoint is complete
    os.replace(partial, out)
    return out, False


# ---------------------------------------------------------------------------------------------- 3. store

def store_dir(embedder, spec: str = DEFAULT_DATASET) -> Path:
    """Where the demo keeps the store of dataset `spec` for `embedder`'s model."""
    h = hashlib.sha256(embedder.weights_hash.encode())
    _hash_sources(h, STORE_SOURCES)
    _hash_data_listing(h, spec)
    return cache_dir("stores") / f"{spec.replace('+', '_')}-{h.hexdigest()[:16]}"


def ensure_store(embedder, checkpoint: Path, spec: str = DEFAULT_DATASET, *,
                 progress: bool = True) -> tuple[Path, bool]:
    """The store of every clip of dataset `spec` for this model, built now if missing. Returns (folder, reused)."""
    from tqdm import tqdm

    from ..store import Store
    from ..store.build import build_store, load_source
    from ..store.format import MANIFEST

    out = store_dir(embedder, spec)
    if (out / MANIFEST).is_file():
        Store.open(out, embedder)       # refuses (clear message) a store that is not this model's
        return out, True
    motions, _skipped = load_source(spec)
    with tqdm(total=len(motions), unit="motion", desc="indexing", disable=not progress, file=sys.stderr,
              dynamic_ncols=True) as bar:
        def report(fraction: float, _message: str) -> None:
            bar.n = round(fraction * bar.total)
            bar.refresh()

        build_store(motions, embedder, out, model_path=checkpoint, progress=report)
    return out, False


# ---------------------------------------------------------------------------------------------- 4. queries

@dataclass
class QueryRun:
    """One demo query and its answer."""

    kind: str                          # "text" or "video"
    query: str                         # the text, or the video file
    result: object                     # engine.Result
    picture: Path | None = None
    source_motion: str | None = None   # video query: the held-out clip it was rendered from
    source_rank: int | None = None     # ... and where that clip ranks (1-based; None: not in the results)
    notes: list[str] = field(default_factory=list)

    @property
    def best(self):
        """The best hit, or None."""
        return self.result.hits[0] if self.result.hits else None


def run_text_queries(engine, texts: tuple[str, ...] = TEXT_QUERIES, k: int = TOP_K) -> list[QueryRun]:
    """Answer each text query (raises DemoError if one fails)."""
    from ..query import TextQuery

    runs = []
    for text in texts:
        result = engine.run(TextQuery(text), k=k)
        if result.error:
            raise DemoError(f"text query {text!r} failed: {result.error}")
        runs.append(QueryRun("text", text, result))
    return runs


def video_query_motion(dataset: MotionDataset, content: str = VIDEO_QUERY_CONTENT):
    """The held-out (test-split) clip the video query shows: the first of `content`, else the first test clip."""
    test = sorted(dataset.split("test"), key=lambda m: m.name)
    if not test:
        raise DemoError(f"{dataset.name} has no test split; the video query needs a held-out clip.")
    return next((m for m in test if m.labels.get("content") == content), test[0])


def render_query_video(motion, out_dir: Path) -> Path:
    """Render `motion` to out_dir/query_video.mp4 (reused while motion, camera and renderer are unchanged)."""
    from ..synthesis.render import RENDERER_VERSION, Camera, write_video

    camera = Camera(azimuth=25.0, elevation=8.0, distance=4.0, focal=35.0, size=(640, 480), seed=11)
    path, meta_path = out_dir / "query_video.mp4", out_dir / "query_video.json"
    # 20 fps: the motion's own rate (no interpolated frames), and a third less rendering than 30 fps.
    meta = {"motion": motion.name, "camera": camera.key(), "renderer": RENDERER_VERSION, "fps": 20.0,
            "frames_sha256": hashlib.sha256(motion.joints.tobytes()).hexdigest()}
    if path.is_file() and meta_path.is_file() and _read_json(meta_path) == meta:
        return path
    write_video(path, motion, camera, fps=meta["fps"])  # atomic: a stopped render leaves no half video
    write_atomic(meta_path, json.dumps(meta, indent=1, ensure_ascii=False))
    return path


def run_video_query(engine, video: Path, source_motion: str, k: int = TOP_K) -> QueryRun:
    """Answer the video query through the full path (decode -> MediaPipe -> video encoder) and rank its source."""
    from ..query import VideoQuery

    result = engine.run(VideoQuery(str(video)), k=max(k, 10))
    if result.error:
        raise DemoError(f"video query {video} failed: {result.error}")
    rank = next((i for i, h in enumerate(result.hits, 1)
                 if source_motion in {h.name} | {f.name for f in h.folded}), None)
    result.hits = result.hits[:k]
    return QueryRun("video", str(video), result, source_motion=source_motion, source_rank=rank,
                    notes=list(result.notices))


def draw_query_picture(run: QueryRun, store, out_dir: Path, index: int) -> Path:
    """demo_out/queryN_<slug>.png: the query (its text, or the video's frames) above the best hit's pose strip."""
    from .pictures import motion_strip, query_picture, save_png, video_strip

    best = run.best
    rows = []
    if run.kind == "video":
        title = f'Query {index} (video): {Path(run.query).name}, rendered from held-out clip {run.source_motion}'
        rows.append(("query video frames", video_strip(run.query)))
        slug = "video"
    else:
        title = f'Query {index} (text): "{run.query}"'
        slug = re.sub(r"[^a-z0-9]+", "-", run.query.lower()).strip("-")[:40]
    if best is None:
        rows.append(("no result", None))
    else:
        labels = " ".join(f"{k}={v}" for k, v in best.labels.items())
        verdict = "" if best.is_match else "   (no good match: nearest motion shown)"
        rows.append((f"best hit: {best.name}   P(match) {_percent(best.probability)}   cosine {best.score:.3f}   "
                     f"{labels}{verdict}", motion_strip(store.motion(best.motion_id))))
    run.picture = save_png(query_picture(rows, title), out_dir / f"query{index}_{slug}.png")
    return run.picture


# ---------------------------------------------------------------------------------------------- 5. Blender

def apply_in_blender(store_path: Path, motion_id: str, out_dir: Path, *, python: str | None = None) -> dict:
    """Apply stored motion `motion_id` to a new Mixamo-like armature in a bpy subprocess; save out_dir/demo.blend."""
    blend, report = out_dir / "demo.blend", out_dir / ".demo_blend_report.json"
    env = dict(os.environ)
    # lavimo_blender lives next to lavimo_core in the checkout; it is not an installed package.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
    cmd = [python or sys.executable, "-m", "lavimo_blender.demo_scene", "--store", str(store_path),
           "--motion-id", motion_id, "--out", str(blend), "--report", str(report)]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=BLENDER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise DemoError(f"Blender (bpy) did not finish within {BLENDER_TIMEOUT_S} s while writing {blend}.") from None
    try:
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            hint = ("\nThe bpy module is missing: run `make demo` (it installs it into .venv) or "
                    "`pip install -r requirements/bpy50.txt`." if "No module named 'bpy'" in proc.stderr else "")
            raise DemoError(f"applying {motion_id} in Blender failed (exit code {proc.returncode}):\n{tail}{hint}")
        return _read_json(report)
    finally:
        report.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- helpers

def _hash_sources(h, folders: tuple[str, ...]) -> None:
    for folder in folders:
        for f in sorted((_PKG / folder).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".json") and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(_PKG)).encode() + f.read_bytes())


def _hash_data_listing(h, spec: str) -> None:
    for part in spec.split("+"):    # names and sizes: a changed dataset rebuilds, an unchanged one is not re-read
        root = find_dataset(part)
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            h.update(f"{f.relative_to(root)}:{f.stat().st_size}".encode())


def _percent(p: float | None) -> str:
    return "-" if p is None else f"{p:.0%}"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

