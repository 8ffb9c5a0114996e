"""Putting an engine Result into the panel's list (main thread), and the thumbnails that follow it."""

from __future__ import annotations

import hashlib
import time

from .. import activity, bridge, thumbnails


def thumbnail_key(store_path: str, motion_id: str) -> str:
    """Icon key of a motion: the same motion id in two stores gets two icons."""
    return hashlib.sha1(f"{store_path}\0{motion_id}".encode()).hexdigest()[:16]


def labels_text(labels: dict) -> str:
    """Labels as one line, e.g. "content: walk, style: happy"."""
    return ", ".join(f"{k}: {v}" for k, v in labels.items())


def fill(state, hits, store_path: str, query_label: str, no_match: bool,
         library_probability: float | None = None) -> None:
    """Replace the listed results with `hits` (best first)."""
    state.results.clear()
    for hit in hits:
        item = state.results.add()
        item.name = hit.name
        item.motion_id = hit.motion_id
        item.store_path = store_path
        item.score = hit.score
        item.probability = 0.0 if hit.probability is None else hit.probability
        item.good = bool(hit.is_match)
        item.duration = hit.duration
        item.caption = hit.captions[0] if hit.captions else ""
        item.labels = labels_text(hit.labels)
        item.source = hit.source
        item.folded = len(hit.folded)
        item.folded_ids = ",".join(h.motion_id for h in hit.folded)
        item.thumbnail = thumbnail_key(store_path, hit.motion_id)
    state.result_index = 0
    state.query_label = query_label
    state.no_match = bool(no_match)
    state.library_probability = -1.0 if library_probability is None else library_probability


def start_thumbnails(store, store_path: str, motion_ids: list[str]) -> bridge.Job | None:
    """Draw pose strips for these motions on a thread; each icon appears as soon as it is ready."""
    todo = [(mid, thumbnail_key(store_path, mid)) for mid in motion_ids]
    todo = [(mid, key) for mid, key in todo if not thumbnails.has(key)]
    if not todo:
        return None

    def work(job: bridge.Job) -> int:
        done = 0
        for mid, key in todo:
            if job.cancelled:
                break
            image = thumbnails.render_strip(store.motion(mid))
            bridge.post(thumbnails.store_pixels, key, image)
            done += 1
            time.sleep(0.001)  # drawing holds the GIL: let the main thread in between thumbnails
        return done

    def failed(exc: BaseException) -> None:
        print(f"LAVIMO: thumbnails could not be drawn: {exc}")

    return bridge.start_thread("thumbnails", work, on_done=lambda n: activity.redraw_panels(), on_error=failed)
