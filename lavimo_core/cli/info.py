"""`lavimo info STORE`: what a store holds, which model built it, and whether its files are intact."""

from __future__ import annotations

import argparse
import json

HELP = "describe a store (model, format, motions, licenses); --verify reads every file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `lavimo info`."""
    p.add_argument("store", help="store folder")
    p.add_argument("--verify", action="store_true", help="read every motion to check the files are intact")
    p.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the store summary."""
    from ..store import Store

    store = Store.open(args.store)
    info = store.info()
    if args.verify:
        checked = store.verify()  # raises StoreCorruptError naming the file
        info["verified"] = True
        info["segments_with_checksums"] = checked
    if args.json:
        print(json.dumps(info, indent=1, ensure_ascii=False))
        return 0
    m = info["model"]
    lines = [
        f"store      {info['path']}",
        f"format     lavimo-store v{info['format_version']}, embeddings {info['dtype']}, {info['segments']} segment(s), "
        f"{info['bytes'] / 1e6:.1f} MB",
        f"model      {m['model_id']} (dim {m['dim']}, weights sha256 {m['weights_hash'][:16]}...)",
        f"           built from {m['path'] or 'an unrecorded path'}",
        f"motions    {info['motions']} ({info['total_duration_s'] / 60:.1f} min)"
        + (f", {info['removed_pending_compaction']} removed (run `lavimo index --out STORE --remove ... --compact`)"
           if info["removed_pending_compaction"] else ""),
        f"created    {info['created']}, updated {info['updated']}",
        "search     exact" + {"ready": " (+ faiss HNSW index)", "stale": " (faiss index stale: rebuild with --faiss)",
                               "unavailable": " (faiss index present, but faiss is not installed)"}.get(info["faiss_index"], ""),
        "moments    " + (f"long motions searched inside: windows of {', '.join(map(str, info['window_lengths']))} frames "
                         f"({info['windows']} windows)" if info["window_lengths"] else
                         f"none: format {info['format_version']} store"
                         + (f"; its {info['long_motions_searched_whole']} long motion(s) are matched whole (rebuild "
                            "with `lavimo index SOURCE --model CKPT --out STORE --overwrite` to search inside them)"
                            if info["long_motions_searched_whole"] else "")),
        "licenses   " + ("; ".join(f"{k}: {v} motions" for k, v in info["licenses"].items()) or "-"),
    ]
    if args.verify:
        unchecked = info["segments"] - checked
        lines.append("verified   every motion read back intact"
                     + ("; every file matches its checksum" if not unchecked else
                        f"; {unchecked} segment(s) from an older LAVIMO have no checksums (rebuild to add them)"))
    print("\n".join(lines))
    return 0
