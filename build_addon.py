"""Build the installable LAVIMO extension zip: add-on code, manifest, the lavimo_core wheel, optionally a model and a store.

    .venv/bin/python build_addon.py [--model CKPT_DIR] [--store STORE_DIR] [--out dist/]
                                    [--platform linux-x64|windows-x64|macos-arm64]

The manifest inside the zip lists the lavimo_core wheel under `wheels`, so Blender installs it when the
extension is enabled. With --platform it also carries the pinned wheels of requirements/addon.txt for that
platform and Blender's Python 3.11 (downloaded once into $LAVIMO_CACHE/addon-wheels/), and its manifest names
the platform: it installs with no network and no "Install dependencies" step. The zip is validated with Blender's own extension validator when one is available
(`blender --command extension validate`, or the copy shipped inside the bpy module), and always with the
checks below (required keys, version format, permissions, file list).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ADDON = ROOT / "lavimo_blender"
MANIFEST = "blender_manifest.toml"
REQUIRED_KEYS = ("schema_version", "id", "version", "name", "tagline", "maintainer", "type", "license",
                 "blender_version_min")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
PERMISSIONS = {"files", "network", "clipboard", "camera", "microphone"}
# Never shipped: caches, bytecode, and what a developer's checkout may have lying around.
EXCLUDE_DIRS = {"__pycache__", ".pytest_cache", ".git"}
EXCLUDE_SUFFIXES = {".pyc", ".pyo", ".blend1"}


class BuildError(Exception):
    """The extension cannot be built or is not valid; the message says why."""


def build_core_wheel(out_dir: Path) -> Path:
    """Build lavimo_core as a pure-Python wheel (no dependencies bundled: Blender ships numpy, pip adds the rest)."""
    # Build from a clean copy: setuptools reuses ./build/lib, which can hold modules deleted since.
    src = out_dir / "src"
    shutil.copytree(ROOT / "lavimo_core", src / "lavimo_core",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
           "-q", "-w", str(out_dir), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(out_dir.glob("lavimo_core-*-py3-none-any.whl"))
    if proc.returncode != 0 or not wheels:
        raise BuildError(f"building the lavimo_core wheel failed:\n{proc.stdout}\n{proc.stderr}")
    return wheels[-1]


def _addon_files() -> list[Path]:
    files = []
    for path in sorted(ADDON.rglob("*")):
        rel = path.relative_to(ADDON)
        if path.is_dir() or EXCLUDE_DIRS.intersection(rel.parts) or path.suffix in EXCLUDE_SUFFIXES:
            continue
        if rel.parts[0] in {"model", "store"}:  # a developer's local copies; shipped only when asked for
            continue
        files.append(path)
    return files


def manifest_with_wheels(text: str, wheels: list[str]) -> str:
    """The manifest text with a top-level `wheels = [...]` (placed before the first table, as TOML requires)."""
    if re.search(r"(?m)^wheels\s*=", text):
        raise BuildError(f"{MANIFEST} already lists wheels; build_addon.py adds them")
    line = "wheels = [" + ", ".join(f'"{w}"' for w in wheels) + "]\n"
    match = re.search(r"(?m)^blender_version_min.*\n", text) or re.search(r"(?m)^(?=\[)", text)
    at = match.end() if match else len(text)
    return text[:at] + line + text[at:]


def validate_manifest(manifest: dict, names: set[str]) -> list[str]:
    """Problems with a manifest and the archive's file names (empty when valid)."""
    problems = [f"missing key {key!r}" for key in REQUIRED_KEYS if key not in manifest]
    for key in ("schema_version", "version"):
        if key in manifest and not SEMVER.match(str(manifest[key])):
            problems.append(f"{key} {manifest[key]!r} is not a semantic version (X.Y.Z)")
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(manifest.get("blender_version_min", ""))):
        problems.append("blender_version_min must be X.Y.Z")
    ident = str(manifest.get("id", ""))
    if not ident.isidentifier() or "__" in ident or ident.startswith("_") or ident.endswith("_"):
        problems.append(f"id {ident!r} must be a Python identifier without leading/trailing/double underscores")
    if manifest.get("type") != "add-on":
        problems.append("type must be \"add-on\"")
    tagline = str(manifest.get("tagline", ""))
    if len(tagline) > 64 or not tagline[-1:].isalnum():
        problems.append("tagline must be at most 64 characters and end without punctuation")
    license_ = manifest.get("license")
    if not isinstance(license_, list) or not license_ or not all(isinstance(x, str) and x for x in license_):
        problems.append("license must be a non-empty list of strings (e.g. [\"SPDX:MIT\"])")
    permissions = manifest.get("permissions", {})
    if not isinstance(permissions, dict):
        problems.append("permissions must be a table of reason strings")
    else:
        for key, reason in permissions.items():
            if key not in PERMISSIONS:
                problems.append(f"unknown permission {key!r}")
            if not isinstance(reason, str) or not reason or len(reason) > 64 or not reason[-1].isalnum():
                problems.append(f"permission {key!r} needs a reason of at most 64 characters without end punctuation")
        if "network" in permissions:
            problems.append("LAVIMO never opens a network connection: remove the \"network\" permission")
        if "files" not in permissions:
            problems.append("the \"files\" permission is required (models, stores and videos are files)")
    for wheel in manifest.get("wheels", []):
        if wheel.removeprefix("./") not in names:
            problems.append(f"wheel {wheel!r} is listed in the manifest but not in the archive")
    if "__init__.py" not in names:
        problems.append("the archive has no __init__.py at its top level")
    bad = sorted(n for n in names if Path(n).suffix in EXCLUDE_SUFFIXES or EXCLUDE_DIRS.intersection(Path(n).parts))
    if bad:
        problems.append(f"the archive contains files that must not ship: {bad[:5]}")
    return problems


def blender_validator() -> list[str] | None:
    """The command of Blender's own extension validator: a `blender` on PATH, else the one inside the bpy module."""
    blender = shutil.which("blender")
    if blender:
        return [blender, "--factory-startup", "--command", "extension", "validate"]
    spec = importlib.util.find_spec("bpy")
    if spec and spec.origin:
        found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return [sys.executable, str(found[-1]), "validate"]
    return None


def validate_zip(zip_path: Path) -> list[str]:
    """Validate a built extension zip: the Python checks, then Blender's validator when available."""
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        if MANIFEST not in names:
            return [f"{MANIFEST} is not at the top of the archive"]
        try:
            manifest = tomllib.loads(zf.read(MANIFEST).decode("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            return [f"{MANIFEST}: {exc}"]
    problems = validate_manifest(manifest, names)
    cmd = blender_validator()
    if cmd is not None:
        proc = subprocess.run(cmd + [str(zip_path)], capture_output=True, text=True)
        if proc.returncode != 0:
            problems.append(f"Blender's validator: {(proc.stdout + proc.stderr).strip()}")
    return problems


def _copy_tree(zf: zipfile.ZipFile, src: Path, arc_prefix: str) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_file() and not EXCLUDE_DIRS.intersection(path.parts):
            zf.write(path, f"{arc_prefix}/{path.relative_to(src).as_posix()}")


def data_license_notice(model: Path | None, store: Path | None) -> str:
    """The licenses and attributions of the data a bundled model was trained on and a bundled store holds."""
    found: dict[tuple[str, str], set[str]] = {}
    if model is not None:
        try:  # checkpoint.json records the training data (lavimo_core/model/checkpoint.py)
            data = json.loads((model / "checkpoint.json").read_text(encoding="utf-8")).get("dataset")
        except (OSError, ValueError, AttributeError):
            data = None
        if isinstance(data, dict) and data.get("license"):
            found.setdefault((data["license"], data.get("attribution", "")), set()).add("the bundled model")
    if store is not None:
        from lavimo_core.store import Store
        opened = Store.open(store)   # the store's own reader: every record carries its source's license
        for motion_id in opened.ids():
            src = opened.record(motion_id).source
            if src.license:
                found.setdefault((src.license, src.attribution), set()).add("the bundled store")
    if not found:
        return ""
    lines = ["# Data licenses", "", "The model and motion library in this extension are made from data under these terms.", ""]
    for (license_, attribution), users in sorted(found.items()):
        lines.append(f"- {', '.join(sorted(users))}: {attribution or 'unattributed data'} — license {license_}")
        if "NC" in license_.replace("-", " ").split():
            lines.append("  Non-commercial use only.")
    return "\n".join(lines) + "\n"


def build(out_dir: Path, model: Path | None = None, store: Path | None = None, platform: str | None = None) -> Path:
    """Build and validate the extension zip in `out_dir` (for one platform, with its wheels, when given); return its path."""
    manifest_text = (ADDON / MANIFEST).read_text(encoding="utf-8")
    manifest = tomllib.loads(manifest_text)
    bundled = platform_wheels(platform) if platform else []  # downloaded once per platform into a cache
    if platform and model is not None:
        check_model_runs_without_torch(model)
    for what, path in (("model", model), ("store", store)):
        if path is not None and not path.is_dir():
            raise BuildError(f"--{what} {path}: not a folder")
    if model is not None and not (model / "config.json").is_file():
        raise BuildError(f"--model {model}: not a LAVIMO checkpoint (no config.json)")
    from lavimo_core.errors import LavimoError
    try:
        notice = data_license_notice(model, store)
    except LavimoError as exc:   # e.g. --store is not a store: say so before building anything
        raise BuildError(f"--store {store}: {exc}") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"-{platform.replace('-', '_')}" if platform else ""   # Blender's split-platform file names
    zip_path = out_dir / f"{manifest['id']}-{manifest['version']}{suffix}.zip"
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_core_wheel(Path(tmp))
        wheel_arc = f"wheels/{wheel.name}"
        partial = zip_path.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            text = manifest_with_wheels(manifest_text, [f"./{wheel_arc}"] + [f"./wheels/{w.name}" for w in bundled])
            zf.writestr(MANIFEST, manifest_with_platforms(text, [platform]) if platform else text)
            for path in _addon_files():
                if path.name != MANIFEST:
                    zf.write(path, path.relative_to(ADDON).as_posix())
            zf.write(wheel, wheel_arc)
            for w in bundled:   # already compressed: stored as is
                zf.write(w, f"wheels/{w.name}", compress_type=zipfile.ZIP_STORED)
            if model is not None:
                _copy_tree(zf, model, "model")
            if store is not None:
                _copy_tree(zf, store, "store")
            if notice:
                zf.writestr("DATA_LICENSE.md", notice)
    problems = validate_zip(partial)
    if problems:
        partial.unlink()
        raise BuildError("the extension is not valid:\n  - " + "\n  - ".join(problems))
    partial.replace(zip_path)
    return zip_path


# ---------------------------------------------------------------- platform builds: bundled wheels (issue 15)
# Blender's platform names -> the wheel platform tags pip may pick for Blender's Python 3.11. pip also accepts
# every older tag of each (older manylinux/glibc, older macOS), never a newer one.
PLATFORM_TAGS: dict[str, tuple[str, ...]] = {
    "linux-x64": ("manylinux_2_28_x86_64",),          # Blender 4.5/5.0 need glibc 2.28
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_14_0_arm64", "macosx_11_0_universal2"),
}
BLENDER_PYTHON = "3.11"
ADDON_REQUIREMENTS = ROOT / "requirements" / "addon.txt"


def addon_pins(path: Path = ADDON_REQUIREMENTS) -> dict[str, str]:
    """Pinned name -> version of the wheels the extension carries (requirements/addon.txt)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            if not version:
                raise BuildError(f"{path}: {line!r} is not pinned (name==version)")
            pins[_dist_name(name)] = version.strip()
    if "numpy" in pins:
        raise BuildError(f"{path} lists numpy: Blender ships its own, a second one would break it")
    return pins


def wheel_cache(platform: str) -> Path:
    """Where the wheels for `platform` are kept between builds ($LAVIMO_CACHE/addon-wheels/PLATFORM)."""
    from lavimo_core.paths import cache_dir
    return cache_dir("addon-wheels", platform)


def platform_wheels(platform: str, cache: Path | None = None, pins: dict[str, str] | None = None) -> list[Path]:
    """One wheel per pin for `platform` and Blender's Python, downloaded with pip only when not cached yet."""
    if platform not in PLATFORM_TAGS:
        raise BuildError(f"unknown platform {platform!r}; use one of {', '.join(sorted(PLATFORM_TAGS))}")
    pins = addon_pins() if pins is None else pins
    folder = cache or wheel_cache(platform)
    found = _cached_wheels(folder, pins)
    todo = [f"{name}=={version}" for name, version in pins.items() if name not in found]
    if todo:
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--python-version", BLENDER_PYTHON, "--implementation", "cp",
               "--abi", "cp311", "--abi", "abi3", "--abi", "none", "-d", str(folder)]
        for tag in PLATFORM_TAGS[platform]:
            cmd += ["--platform", tag]
        proc = subprocess.run(cmd + ["--platform", "any"] + todo, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"downloading the wheels for {platform} failed (pip needs the network once; later "
                             f"builds use {folder}):\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
        found = _cached_wheels(folder, pins)
    missing = sorted(set(pins) - set(found))
    if missing:
        raise BuildError(f"no wheel for {', '.join(missing)} on {platform} in {folder}")
    return [found[name] for name in pins]


def _cached_wheels(folder: Path, pins: dict[str, str]) -> dict[str, Path]:
    found = {}
    for wheel in sorted(folder.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        if pins.get(_dist_name(name)) == version and _readable_wheel(wheel):
            found[_dist_name(name)] = wheel
    return found


def _readable_wheel(wheel: Path) -> bool:
    try:
        with zipfile.ZipFile(wheel) as zf:
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError):
        wheel.unlink(missing_ok=True)   # a broken download: fetch it again
        return False


def _dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def manifest_with_platforms(text: str, platforms: list[str]) -> str:
    """The manifest text with a top-level `platforms = [...]` (Blender refuses the zip on other platforms)."""
    if re.search(r"(?m)^platforms\s*=", text):
        raise BuildError(f"{MANIFEST} already lists platforms; build_addon.py --platform sets them")
    line = "platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]\n"
    match = re.search(r"(?m)^wheels.*\n", text) or re.search(r"(?m)^(?=\[)", text)
    at = match.end() if match else len(text)
    return text[:at] + line + text[at:]


def check_model_runs_without_torch(model: Path) -> None:
    """Refuse to bundle a model without a valid ONNX export: the platform zip carries no torch to run it."""
    from lavimo_core.runtime.onnx_files import OnnxModelError, read_manifest
    try:
        read_manifest(model)
    except OnnxModelError as exc:
        raise BuildError(f"--model {model}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--model", type=Path, help="ship this checkpoint folder as the default model")
    parser.add_argument("--store", type=Path, help="ship this store folder as the default store")
    parser.add_argument("--platform", choices=sorted(PLATFORM_TAGS),
                        help="build for one platform, carrying its wheels (downloaded once into a cache): "
                             "installs with no network and no Install dependencies step")
    args = parser.parse_args(argv)
    try:
        zip_path = build(args.out, args.model, args.store, args.platform)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = zip_path.stat().st_size / 1e6
    print(f"built {zip_path} ({size:.1f} MB), manifest valid")
    print("Install it in Blender 4.5+ with Edit > Preferences > Get Extensions > (menu) Install from Disk..., or:")
    print(f"  blender --command extension install-file -r user_default -e {zip_path}")
    if args.platform:
        print(f"It carries its packages for {args.platform}: nothing to download after installing.")
    else:
        print("Then open 3D Viewport > Sidebar > LAVIMO; if it lists missing packages, click Install dependencies.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
