"""The lean bench's Blender runs get the environment their scenario needs (bench/bench_lean.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _lean():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_lean
        return bench_lean
    finally:
        sys.path.remove(str(BENCH))


def test_source_scenario_imports_the_addon_from_this_checkout(tmp_path, monkeypatch):
    """On a fresh clone `make bench` stopped at "No module named 'lavimo_blender'": the run's script lives in
    blender_tests/, so nothing put the checkout's root on the path of the Blender process."""
    lean = _lean()
    monkeypatch.delenv("PYTHONPATH", raising=False)
    probe = [sys.executable, "-c", "import lavimo_blender, pathlib; print(pathlib.Path(lavimo_blender.__file__).parent)"]
    env = lean.blender_env("source", str(tmp_path), Path("m"), Path("s"), {"LAVIMO_BACKEND": "torch"})
    out = subprocess.run(probe, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert Path(out.stdout.strip()) == lean.ROOT / "lavimo_blender"
    zipped = lean.blender_env("zip", str(tmp_path), Path("m"), Path("s"), {})
    assert "PYTHONPATH" not in zipped and zipped["LAVIMO_TEST_MODEL"] == "m"
