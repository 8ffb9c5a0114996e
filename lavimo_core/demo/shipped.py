"""The default model shipped in the checkout (models/default, written by `make model`): found and verified.

The demo uses it instead of training when every file matches the sha256 recorded in SHA256SUMS; a missing
or changed file means training as before (never a half-trusted model).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "models" / "default"
SHIPPED_FILES = ("model.safetensors", "config.json", "checkpoint.json", "metrics.json", "DATA_LICENSE.md")


def read_sums(folder: Path) -> dict[str, str]:
    """file name -> sha256 from folder/SHA256SUMS (`sha256sum` format)."""
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            sums[name.strip()] = digest.strip()
    return sums


def problems(folder: Path | None = None) -> list[str]:
    """What is wrong with the shipped files (missing, or not matching SHA256SUMS); empty when all is well."""
    folder = folder or SHIPPED_DIR
    if not (folder / "SHA256SUMS").is_file():
        return [f"{folder / 'SHA256SUMS'} is missing; run `make model`"]
    sums = read_sums(folder)
    out = [f"{name}: not listed in SHA256SUMS" for name in SHIPPED_FILES if name not in sums]
    for name, digest in sums.items():
        path = folder / name
        if not path.is_file():
            out.append(f"{path} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            out.append(f"{path}: sha256 differs from SHA256SUMS (changed after `make model`?)")
    return out


def shipped_model(folder: Path | None = None) -> Path | None:
    """The shipped checkpoint folder when present and intact, else None."""
    folder = folder or SHIPPED_DIR
    return folder if (folder / "checkpoint.json").is_file() and not problems(folder) else None
