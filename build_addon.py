"""Build the installable LAVIMO extension zip: add-on code, manifest, the lavimo_core wheel, optionally a model and a store.

    .venv/bin/python build_addon.py [--model CKPT_DIR] [--store STORE_DIR] [--out dist/]
                                    [--platform linux-x64|windows-x64|macos-arm64]

Blender's own extension tool packs and validates the zip (`blender --command extension build`, or the
same tool shipped inside the bpy module as a standalone script), honouring the manifest's
`[build] paths_exclude_pattern`. This script only stages what goes in (the add-on, the lavimo_core
wheel listed under `wheels` so Blender installs it on enable, an optional model and store with their
data licence) and adds LAVIMO's own checks on top (no network permission, the wheels are inside).
With --platform the extension also carries the pinned wheels of requirements/addon.txt for that platform
and Blender's Python 3.11 (downloaded once into $LAVIMO_CACHE/addon-wheels/), and its manifest names the
platform: it installs with no network and no "Install dependencies" step.
"""

from __future__ import annotations

import argparse
import fnmatch
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

from lavimo_core.atomic import atomic_write

ROOT = Path(__file__).resolve().parent
ADDON = ROOT / "lavimo_blender"
MANIFEST = "blender_manifest.toml"
# A guard on top of the manifest's paths_exclude_pattern: these never ship, whatever the patterns say.
NEVER_SHIPPED = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.git)/|\.(pyc|pyo|blend1)$")


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


def manifest_with_list(text: str, key: str, values: list[str], after: str) -> str:
    """The manifest text with a top-level `key = [...]` after the line starting `after` (else before the first
    table, as TOML requires of top-level keys)."""
    if re.search(rf"(?m)^{key}\s*=", text):
        raise BuildError(f"{MANIFEST} already lists {key}; build_addon.py sets them")
    line = f"{key} = [" + ", ".join(f'"{v}"' for v in values) + "]\n"
    match = re.search(rf"(?m)^{after}.*\n", text) or re.search(r"(?m)^(?=\[)", text)
    at = match.end() if match else len(text)
    return text[:at] + line + text[at:]


def manifest_with_wheels(text: str, wheels: list[str]) -> str:
    """The manifest text with the wheels Blender installs on enable."""
    return manifest_with_list(text, "wheels", wheels, after="blender_version_min")


def extension_tool() -> list[str]:
    """Blender's extension command: `blender --command extension` when on PATH, else the bpy module's copy."""
    blender = shutil.which("blender")
    if blender:
        return [blender, "--factory-startup", "--command", "extension"]
    spec = importlib.util.find_spec("bpy")
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py")) \
        if spec and spec.origin else []
    if not found:
        raise BuildError("Blender's extension tool was not found: put `blender` on PATH or install the bpy module "
                         "(make venv)")
    return [sys.executable, str(found[-1])]  # a standalone script: it runs without Blender


def lavimo_problems(manifest: dict, names: set[str]) -> list[str]:
    """What LAVIMO requires beyond Blender's rules, for a manifest and the package's file names."""
    problems = []
    permissions = manifest.get("permissions", {})
    if "network" in permissions:
        problems.append("LAVIMO never opens a network connection: remove the \"network\" permission")
    if "files" not in permissions:
        problems.append("the \"files\" permission is required (models, stores and videos are files)")
    problems += [f"wheel {w!r} is listed in the manifest but not in the package"
                 for w in manifest.get("wheels", []) if w.removeprefix("./") not in names]
    bad = sorted(n for n in names if NEVER_SHIPPED.search(n))
    if bad:
        problems.append(f"the package contains files that must not ship: {bad[:5]}")
    return problems


def validate(path: Path) -> list[str]:
    """Problems with an extension, a source folder or a built zip: Blender's validator, then LAVIMO's checks."""
    proc = subprocess.run(extension_tool() + ["validate", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"Blender's validator: {(proc.stdout + proc.stderr).strip()}"]
    if path.is_dir():
        names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
        text = (path / MANIFEST).read_text(encoding="utf-8")
        return lavimo_problems(tomllib.loads(text), names)
    with zipfile.ZipFile(path) as zf:
        return lavimo_problems(manifest_of(zf), set(zf.namelist()))


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
        stage = Path(tmp) / manifest["id"]
        # A developer's local model/ and store/ stay out; the ones asked for go in below.
        shutil.copytree(ADDON, stage, ignore=lambda d, names: {"model", "store"} & set(names) if d == str(ADDON)
                        else set())
        wheel = build_core_wheel(Path(tmp) / "wheel")
        (stage / "wheels").mkdir()
        shutil.copy2(wheel, stage / "wheels" / wheel.name)
        for w in bundled:
            slim_wheel(w, stage / "wheels" / w.name)
        text = manifest_with_wheels(manifest_text, [f"./wheels/{w.name}" for w in [wheel, *bundled]])
        (stage / MANIFEST).write_text(manifest_with_platforms(text, [platform]) if platform else text, encoding="utf-8")
        for name, path in (("model", model), ("store", store)):
            if path is not None:
                shutil.copytree(path, stage / name)
        if notice:
            (stage / "DATA_LICENSE.md").write_text(notice, encoding="utf-8")
        with atomic_write(zip_path) as partial:
            proc = subprocess.run(extension_tool() + ["build", "--source-dir", str(stage), "--output-filepath",
                                                      str(partial)], capture_output=True, text=True)
            if proc.returncode != 0 or not partial.is_file():
                raise BuildError(f"Blender's extension build failed: {(proc.stdout + proc.stderr).strip()}")
            with zipfile.ZipFile(partial) as zf:
                problems = lavimo_problems(manifest_of(zf), set(zf.namelist()))
            if problems:
                raise BuildError("the extension is not valid:\n  - " + "\n  - ".join(problems))
    return zip_path


def manifest_of(zf: zipfile.ZipFile) -> dict:
    """The manifest inside a built extension zip."""
    return tomllib.loads(zf.read(MANIFEST).decode("utf-8"))


# ---------------------------------------------------------------- platform builds: bundled wheels (issue 15)
# Blender's platform names -> every wheel platform tag Blender's Python 3.11 there can load, each listed: with
# manylinux_2_28 alone, pip download in a fresh clone found no tokenizers wheel (it is manylinux_2_17).
PLATFORM_TAGS: dict[str, tuple[str, ...]] = {
    # Blender 4.5/5.0 need glibc 2.28: wheels built for it or for any older glibc load.
    "linux-x64": tuple(f"manylinux_2_{n}_x86_64" for n in range(28, 16, -1))
    + ("manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"),
    "windows-x64": ("win_amd64",),
    # Blender 4.5/5.0 run on macOS 11.2 and later on Apple silicon.
    "macos-arm64": tuple(f"macosx_{v}_0_{arch}" for v in (14, 13, 12, 11) for arch in ("arm64", "universal2")),
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


# Files of the bundled wheels the add-on never loads, left out of the zip (issue 15: what Blender installs):
# - ONNX Runtime's C API library (libonnxruntime / onnxruntime.dll), for C and C++ programs: the Python module
#   carries its own copy of the runtime (its import table names no onnxruntime library on Linux, Windows or
#   macOS), 23-35 MB;
# - the models of MediaPipe's other solutions (hands, palms, face, iris, selfie segmentation, holistic): LAVIMO
#   runs the Pose graph only (pose_detection + pose_landmark_full, lavimo_core/video/pose.py), 20 MB.
UNUSED_WHEEL_FILES: dict[str, tuple[str, ...]] = {
    # The C API library (the Python module links its own copy), and the pure-Python model tools
    # (transformer optimisation, quantisation, converters) that `import onnxruntime` never loads.
    "onnxruntime": ("onnxruntime/capi/libonnxruntime.so*", "onnxruntime/capi/libonnxruntime.*dylib",
                    "onnxruntime/capi/onnxruntime.dll", "onnxruntime/transformers/*", "onnxruntime/quantization/*",
                    "onnxruntime/tools/*"),
    # Other solutions' models, and the Tasks API (the add-on runs the legacy pose solution only).
    "mediapipe": tuple(f"mediapipe/modules/{m}/*.tflite" for m in (
        "hand_landmark", "palm_detection", "face_landmark", "face_detection", "iris_landmark", "selfie_segmentation",
        "holistic_landmark")) + ("mediapipe/tasks/*",),
}


def slim_wheel(wheel: Path, out: Path) -> int:
    """Copy `wheel` to `out` without its UNUSED_WHEEL_FILES, listed in RECORD no more; returns the bytes left out.

    Blender unpacks the wheel as it is (its RECORD only tells it the top-level folders to remove later).
    """
    patterns = UNUSED_WHEEL_FILES.get(_dist_name(wheel.name.split("-")[0]), ())
    with zipfile.ZipFile(wheel) as src:
        dropped = {i.filename for i in src.infolist() if any(fnmatch.fnmatchcase(i.filename, p) for p in patterns)}
        if not dropped:
            shutil.copy2(wheel, out)
            return 0
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                if item.filename in dropped:
                    continue
                data = src.read(item)
                if item.filename.endswith(".dist-info/RECORD"):
                    rows = data.decode("utf-8").splitlines(keepends=True)
                    data = "".join(r for r in rows if r.split(",")[0] not in dropped).encode("utf-8")
                dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
        return sum(src.getinfo(n).file_size for n in dropped)


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
    """The manifest text with `platforms = [...]` (Blender refuses the zip on other platforms)."""
    return manifest_with_list(text, "platforms", platforms, after="wheels")


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
    print(f"built {zip_path} ({size:.1f} MB) with Blender's extension tool; manifest valid")
    print("Install it in Blender 4.5+ with Edit > Preferences > Get Extensions > (menu) Install from Disk..., or:")
    print(f"  blender --command extension install-file -r user_default -e {zip_path}")
    if args.platform:
        print(f"It carries its packages for {args.platform}: nothing to download after installing.")
    else:
        print("Then open 3D Viewport > Sidebar > LAVIMO; if it lists missing packages, click Install dependencies.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
