"""On-disk cache of pose tracks of rendered motions, keyed by (motion content, camera, tracker, renderer).

Tracks (raw landmarks), not encoder features, are cached: the expensive part is rendering and
MediaPipe, and features are recomputed from a track in microseconds, so a change to the
normalisation does not force a re-render. Entries live under a folder named by the renderer and
tracker versions, so a new version misses every old entry (and `prune` deletes them). Each entry is
an .npz (loaded with allow_pickle=False) plus a .json with its full key, both written atomically.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..motion.motion import Motion
from ..paths import cache_dir
from ..video.track import PoseTrack
from .camera import Camera

FORMAT_VERSION = 1


def motion_hash(motion: Motion) -> str:
    """sha256 of a motion's content (joints and frame rate), independent of its name."""
    h = hashlib.sha256(np.ascontiguousarray(motion.joints, np.float32).tobytes())
    h.update(repr(float(motion.fps)).encode())
    return h.hexdigest()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


class TrackCache:
    """Pose tracks of rendered motions for one renderer version and one tracker version."""

    def __init__(self, renderer_version: str, tracker_version: str, root: Path | None = None):
        self.root = Path(root) if root is not None else cache_dir("video", "tracks")
        self.renderer_version = renderer_version
        self.tracker_version = tracker_version
        self.folder = self.root / _safe(f"{renderer_version}__{tracker_version}")

    def _key(self, motion: Motion, camera: Camera) -> dict:
        return {"format": FORMAT_VERSION, "motion": motion_hash(motion), "camera": camera.key(),
                "renderer": self.renderer_version, "tracker": self.tracker_version}

    def _paths(self, key: dict) -> tuple[Path, Path]:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        sub = self.folder / key["motion"][:2]
        return sub / f"{digest}.npz", sub / f"{digest}.json"

    def get(self, motion: Motion, camera: Camera) -> PoseTrack | None:
        """The cached track, or None (missing, stale or unreadable entries count as missing)."""
        key = self._key(motion, camera)
        npz, meta = self._paths(key)
        try:
            stored = json.loads(meta.read_text())
            if stored.get("key") != key:
                return None
            with np.load(npz, allow_pickle=False) as z:
                return PoseTrack(z["image"], z["world"], z["visibility"], z["present"].astype(bool),
                                 tuple(stored["size"]), float(stored["fps"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None  # a damaged entry is a miss; put() overwrites it

    def put(self, motion: Motion, camera: Camera, track: PoseTrack) -> None:
        """Store a track (npz first, then the json that makes it valid)."""
        import io

        key = self._key(motion, camera)
        npz, meta = self._paths(key)
        npz.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, image=track.image, world=track.world, visibility=track.visibility, present=track.present)
        write_atomic(npz, buf.getvalue())
        write_atomic(meta, json.dumps({"key": key, "motion_name": motion.name, "size": list(track.size),
                                       "fps": track.fps}, indent=1))

    def prune(self) -> int:
        """Delete entries of other renderer/tracker versions; returns how many version folders went."""
        if not self.root.is_dir():
            return 0
        stale = [p for p in self.root.iterdir() if p.is_dir() and p != self.folder]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)
