"""What this installed copy of the add-on carries: the platform its zip was built for and its bundled wheels.

build_addon.py --platform writes both into the zip's blender_manifest.toml (`platforms`, `wheels`);
Blender unpacks the wheels when the extension is enabled. No bpy here.
"""

from __future__ import annotations

import platform
import re
import sys
import tomllib
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "blender_manifest.toml"

_SYSTEMS = {"linux": "linux", "win32": "windows", "darwin": "macos"}
_MACHINES = {"x86_64": "x64", "amd64": "x64", "arm64": "arm64", "aarch64": "arm64"}


def current_platform() -> str:
    """This Blender's platform in the manifest's naming: linux-x64, windows-x64, macos-arm64, ..."""
    system = _SYSTEMS.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    return f"{system}-{_MACHINES.get(machine, machine)}"


def manifest(path: Path = MANIFEST) -> dict:
    """The add-on's own manifest (empty when unreadable: a development copy still loads)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def built_for(path: Path = MANIFEST) -> list[str]:
    """The platforms this copy's zip was built for (empty: any platform, no bundled binary wheels)."""
    return [str(p) for p in manifest(path).get("platforms", [])]


def bundled_packages(path: Path = MANIFEST) -> list[str]:
    """Distribution names of the third-party wheels this copy carries (lavimo_core excluded)."""
    names = []
    for wheel in manifest(path).get("wheels", []):
        name = re.split(r"-\d", Path(wheel).name, maxsplit=1)[0].lower().replace("_", "-")
        if name != "lavimo-core":
            names.append(name)
    return names


def platform_problem(path: Path = MANIFEST) -> str | None:
    """A message when this copy was built for another platform than this Blender's, else None."""
    platforms, here = built_for(path), current_platform()
    if not platforms or here in platforms:
        return None
    data = manifest(path)
    wanted = f"{data.get('id', 'lavimo')}-{data.get('version', '')}-{here.replace('-', '_')}.zip"
    return (f"This LAVIMO was built for {', '.join(platforms)}, but this Blender runs on {here}: remove it and "
            f"install {wanted} (Preferences > Get Extensions > Install from Disk), or build it with "
            f"`python build_addon.py --platform {here}`")
