"""The lean MediaPipe import gives the very same landmarks as `import mediapipe`, without OpenCV, matplotlib,
sounddevice or jax (each run in its own process, since a process can hold only one of the two imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lavimo_core.paths import find_dataset

ROOT = Path(__file__).resolve().parents[2]

_TRACK = """
import json, sys
{prelude}
import numpy as np
from lavimo_core.video.decode import iter_frames
from lavimo_core.video.features import VIDEO_FPS
from lavimo_core.video.pose import MediaPipePoseFeaturizer
track = MediaPipePoseFeaturizer().raw_track(iter_frames(sys.argv[1], fps=VIDEO_FPS), VIDEO_FPS)
np.savez(sys.argv[2], image=track.image, world=track.world, visibility=track.visibility, present=track.present)
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & {{'cv2', 'matplotlib', 'sounddevice', 'jax', 'torch'}})
import importlib.util
assert importlib.util.find_spec("mediapipe") is not None   # still "installed" for the add-on's check
print(json.dumps(heavy))
"""
_FULL = "import mediapipe  # the whole package, as before"
_LEAN = """
import importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('cv2', 'matplotlib', 'sounddevice', 'jax', 'jaxlib', 'torch', 'scipy', 'PIL'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
"""


def _track(video: Path, out: Path, prelude: str) -> tuple[dict, list[str]]:
    proc = subprocess.run([sys.executable, "-c", _TRACK.format(prelude=prelude), str(video), str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(np.load(out)), json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("which", ["real", "rendered"])
def test_lean_import_gives_the_same_landmarks(which, rendered_mp4, tmp_path):
    video = (find_dataset("real-video-dev") / "waving_both_hands" / "omkar_wave_both_hands.mp4"
             if which == "real" else rendered_mp4)
    full, full_heavy = _track(video, tmp_path / "full.npz", _FULL)
    lean, lean_heavy = _track(video, tmp_path / "lean.npz", _LEAN)
    assert "cv2" in full_heavy and lean_heavy == []
    assert full["present"].mean() > 0.5
    for key in full:
        np.testing.assert_array_equal(lean[key], full[key])
