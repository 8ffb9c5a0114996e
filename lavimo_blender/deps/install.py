"""Install the pinned dependencies with pip, in a subprocess, into the extension's own folder (no bpy here)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"


@dataclass
class InstallOutcome:
    """What pip did: success, its exit code, the tail of its output, and a one-line summary for the user."""

    ok: bool
    returncode: int
    output: str
    message: str


def pip_command(target: Path, requirements: Path = REQUIREMENTS, wheel_dir: str = "") -> list[str]:
    """The pip command line: install the pinned requirements into `target`, from `wheel_dir` only when given."""
    # --no-deps: exactly the pinned list (MediaPipe declares jax, OpenCV and matplotlib, which LAVIMO never imports).
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-deps",
           "--upgrade", "--target", str(target), "-r", str(requirements)]
    if wheel_dir:
        # Offline machines: never reach an index, take every wheel from the folder.
        cmd += ["--no-index", "--find-links", str(wheel_dir)]
    return cmd


def run_pip(cmd: list[str], *, cancelled: Callable[[], bool] = lambda: False,
            on_line: Callable[[str], None] | None = None, keep_lines: int = 40) -> InstallOutcome:
    """Run pip, streaming each output line to `on_line`; stop it when `cancelled()` turns true."""
    if importlib.util.find_spec("pip") is None:
        return InstallOutcome(False, -1, "", (
            f"Blender's Python ({sys.executable}) has no pip; run `\"{sys.executable}\" -m ensurepip` once, "
            "then click Install dependencies again"))
    env = dict(os.environ, PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    tail: deque[str] = deque(maxlen=keep_lines)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, encoding="utf-8", errors="replace", env=env)
    except OSError as exc:
        return InstallOutcome(False, -1, "", f"could not start pip ({cmd[0]}): {exc}")
    # A watchdog stops pip on cancel even while it is silent (downloading, building).
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if cancelled():
                proc.terminate()
                return

    threading.Thread(target=watch, name="lavimo-pip-watch", daemon=True).start()
    try:
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                tail.append(line)
                if on_line:
                    on_line(line)
        returncode = proc.wait()
    finally:
        done.set()
    output = "\n".join(tail)
    if cancelled():
        return InstallOutcome(False, returncode, output, "Installation cancelled; nothing was added to sys.path")
    if returncode != 0:
        errors = [l for l in tail if l.startswith("ERROR")] or list(tail)[-3:]
        return InstallOutcome(False, returncode, output, f"pip failed (exit code {returncode}): " + " | ".join(errors))
    return InstallOutcome(True, 0, output, f"Dependencies installed into {cmd[cmd.index('--target') + 1]}")


def activate(target: Path) -> bool:
    """Make packages in `target` importable (after Blender's own, so its numpy wins); True if added now."""
    path = str(target)
    if not Path(path).is_dir() or path in sys.path:
        return False
    sys.path.append(path)
    importlib.invalidate_caches()
    return True


def deactivate(target: Path) -> None:
    """Undo activate(): take `target` off sys.path."""
    while str(target) in sys.path:
        sys.path.remove(str(target))
