"""`lavimo retarget-preview MOTION --rig mixamo --out strip.png`: the source and the retargeted rig as pose strips."""

from __future__ import annotations

import argparse

HELP = "draw a motion (BVH) and its retargeting onto a test rig as two pose strips, source above, rig below"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo retarget-preview`."""
    from ..retarget.rig_presets import PRESET_NAMES

    p.add_argument("motion", help="motion file (.bvh)")
    p.add_argument("--rig", default="mixamo", choices=PRESET_NAMES, help="test rig to retarget onto (default mixamo)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--poses", type=int, default=6, help="poses per strip (default 6)")
    p.add_argument("--height", type=int, default=160, help="strip height in pixels (default 160)")
    p.add_argument("--direction-only", action="store_true", help="ignore the source file's rotations (no full body)")
    p.add_argument("--no-foot-lock", action="store_true", help="leave planted feet unlocked")


def run(args: argparse.Namespace) -> int:
    """Load, retarget, draw and write the PNG; prints what the retargeting did."""
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from ..demo.pictures import save_png
    from ..errors import LavimoError
    from ..motion.load import load_motion
    from ..preview import pose_strip
    from ..retarget import RetargetOptions, detect_bone_map, solve
    from ..retarget.rig_joints import rig_joint_motion
    from ..retarget.rig_presets import preset_rig
    from ..retarget.source_pose import source_pose

    if not 1 <= args.poses <= 32 or not 32 <= args.height <= 2048:
        raise LavimoError(f"--poses must be 1..32 and --height 32..2048, got {args.poses} and {args.height}")
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise LavimoError(f"--out {out}: write a .png file")
    if not out.parent.is_dir():
        raise LavimoError(f"--out {out}: folder {out.parent} does not exist")
    motion = load_motion(args.motion)
    rig = preset_rig(args.rig)
    bone_map = detect_bone_map(rig)
    fps = float(motion.fps)
    source, warning = (None, None) if args.direction_only else source_pose(motion, fps)
    result = solve(motion, rig, bone_map, RetargetOptions(fps=fps, foot_lock=not args.no_foot_lock), source)
    size = (int(round(0.6 * args.height)) * args.poses, args.height)
    top = pose_strip(motion, args.poses, size=size)
    bottom = pose_strip(rig_joint_motion(rig, bone_map, result, args.rig), args.poses, size=size)
    save_png(Image.fromarray(np.concatenate([top, bottom], axis=0)), out)  # Pillow, written atomically
    report = result.report
    print(f"{out}: {motion.name} (above) on the {args.rig} rig (below); {len(report.transferred)} joints from the "
          f"source file's rotations, {report.contacts} foot contacts locked" + (f"; {warning}" if warning else ""))
    return 0
