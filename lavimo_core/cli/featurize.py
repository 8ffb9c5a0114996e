"""`lavimo featurize VIDEO`: pose features of a video (detection rate, frames, timing);
`lavimo featurize --dataset NAME`: prepare the cached rendered-video features of a dataset."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "pose features of a video file (detection rate, timing), or prepare a dataset's rendered-video features"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo featurize`."""
    p.add_argument("video", nargs="?", help="video file (mp4, mov, mkv, webm, avi)")
    p.add_argument("--start", type=float, help="start of the range to use, seconds")
    p.add_argument("--end", type=float, help="end of the range to use, seconds")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--dataset", help="instead of a video: render every clip of this dataset and cache its features")
    p.add_argument("--cameras", type=int, default=2, help="cameras per clip with --dataset (default 2)")
    p.add_argument("--workers", type=int, default=1, help="processes with --dataset (default 1)")


def _featurize_video(args: argparse.Namespace) -> int:
    import time

    from ..video.decode import TimedFrames, iter_frames, probe
    from ..video.errors import NoPersonError
    from ..video.features import VIDEO_FPS, VideoFeatures, default_featurizer

    info = probe(args.video)
    featurizer = default_featurizer()
    t = time.perf_counter()
    frames = TimedFrames(iter_frames(args.video, fps=VIDEO_FPS, start=args.start, end=args.end))
    track = featurizer.track(frames, VIDEO_FPS)
    total = time.perf_counter() - t
    if not track.present.any():
        raise NoPersonError(f"no person was found in any of the {len(track)} sampled frames of {args.video}; use a "
                            "clip where one whole person is clearly visible (full body, not too small, reasonably lit).")
    feats = VideoFeatures.from_track(track, featurizer.version, str(args.video))
    report = {
        "video": str(args.video), "width": info.width, "height": info.height, "fps": round(info.fps, 3),
        "duration_s": round(info.duration, 3), "codec": info.codec, "rotation": info.rotation,
        "sampled_fps": VIDEO_FPS, "frames": len(track), "frames_with_person": int(track.present.sum()),
        "detection_rate": round(feats.detection_rate, 4), "feature_dim": int(feats.features.shape[1]),
        "featurizer": feats.featurizer_version, "decode_s": round(frames.seconds, 3),
        "pose_s": round(total - frames.seconds, 3), "total_s": round(total, 3),
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{report['video']}: {info.width}x{info.height} {info.codec} {info.fps:.2f} fps, {info.duration:.2f} s"
              + (f", rotated {info.rotation} deg" if info.rotation else ""))
        print(f"  {report['frames']} frames sampled at {VIDEO_FPS:g} fps, person in {report['frames_with_person']} "
              f"(detection rate {feats.detection_rate:.0%})")
        print(f"  features ({report['frames']}, {report['feature_dim']}) from {feats.featurizer_version}")
        print(f"  time: decode {frames.seconds:.2f} s + pose {total - frames.seconds:.2f} s = {total:.2f} s")
    return 0


def _prepare_dataset(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    from ..data import load_dataset
    from ..errors import LavimoError
    from ..synthesis.prepare import prepare_rendered_features

    if args.cameras < 1 or args.workers < 1:
        raise LavimoError("--cameras and --workers must be at least 1.")
    ds = load_dataset(args.dataset, progress=sys.stderr.isatty())
    t = time.perf_counter()
    feats = prepare_rendered_features(ds.motions, args.cameras, workers=args.workers, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - t
    videos = [f for fs in feats.values() for f in fs]
    frames = sum(len(f.present) for f in videos)
    rate = float(np.mean([f.detection_rate for f in videos])) if videos else 0.0
    report = {"dataset": ds.name, "clips": len(ds.motions), "videos": len(videos), "frames": frames,
              "mean_detection_rate": round(rate, 4), "seconds": round(seconds, 1)}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{ds.name}: {len(videos)} rendered videos of {len(ds.motions)} clips ({frames} frames), "
              f"mean detection rate {rate:.1%}, cached in {seconds:.1f} s")
    return 0


def run(args: argparse.Namespace) -> int:
    """Featurize one video, or prepare a dataset."""
    from ..errors import LavimoError

    if args.dataset and args.video:
        raise LavimoError("give either a VIDEO or --dataset, not both.")
    if args.dataset:
        return _prepare_dataset(args)
    if not args.video:
        raise LavimoError("give a VIDEO file to featurize, or --dataset NAME to prepare a dataset's features.")
    return _featurize_video(args)
