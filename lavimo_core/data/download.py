"""Fetch Bandai-Namco-Research-Motiondataset-1 from its public GitHub repository when it is not found locally.

Used only by `lavimo demo` on a machine without the dataset: the one place in lavimo_core that opens a
network connection, after saying what it downloads and under which license. The archive is checked
against the sha256 that the repository's Git LFS pointer records, unpacked zip-slip safe, and the
finished folder appears in one rename, so an interrupted or failed download never leaves a
half-written dataset behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..atomic import atomic_write
from .dataset import DatasetError

REPO_URL = "https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset"
# The commit the shared development copy was taken from (its LICENSE is CC BY-NC 4.0; earlier commits said BY-NC-ND).
COMMIT = "74ead3ba1ae4696404e6086233779f60de8bf9ef"
FOLDER = "dataset/Bandai-Namco-Research-Motiondataset-1"
_RAW = f"https://raw.githubusercontent.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset/{COMMIT}/{FOLDER}"
# data.zip is stored with Git LFS: raw.githubusercontent.com would return the pointer, media. the file.
_MEDIA = f"https://media.githubusercontent.com/media/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset/{COMMIT}/{FOLDER}"

LICENSE_NOTICE = (
    "Bandai-Namco-Research-Motiondataset-1 (c) 2022 Bandai Namco Research Inc. is licensed under CC BY-NC 4.0\n"
    "(https://creativecommons.org/licenses/by-nc/4.0/): non-commercial use only, with attribution\n"
    "(Kobayashi et al., arXiv:2306.08861, 2023). Models trained on it inherit the restriction: do not use the\n"
    "default LAVIMO model commercially. The license text is saved with the data (LICENSE)."
)
MAX_UNPACKED_BYTES = 2 << 30   # refuse archives that would unpack to more than 2 GiB (zip bombs)
CHUNK = 1 << 16


class DatasetDownloadError(DatasetError):
    """The dataset could not be downloaded or unpacked; the message says how to get it by hand."""


class UnsafeArchiveError(DatasetDownloadError):
    """A zip member would land outside the target folder (absolute path, '..', a link) or the archive is too big."""


@dataclass(frozen=True)
class RemoteDataset:
    """Where a dataset lives online: one zip of the clips (unpacked into data/) plus single files."""

    name: str
    zip_url: str
    zip_sha256: str
    zip_size: int
    files: dict[str, str] = field(default_factory=dict)   # relative path in the dataset folder -> URL
    license_notice: str = ""
    min_clips: int = 1                                     # fewer .bvh files in the zip: not the archive we expect


BANDAI_NAMCO_1 = RemoteDataset(
    name="bandai-namco-1",
    zip_url=f"{_MEDIA}/data.zip",
    # From the repository's Git LFS pointer for data.zip.
    zip_sha256="6dbcdbba53e0d45595bd332cc814ff4636bd06e3c484f66a8e67d6f79b116757",
    zip_size=12_000_689,
    files={"cfg/content_label.txt": f"{_RAW}/cfg/content_label.txt",
           "cfg/style_label.txt": f"{_RAW}/cfg/style_label.txt",
           "LICENSE": f"{_RAW}/LICENSE",
           "README.md": f"{_RAW}/README.md"},
    license_notice=LICENSE_NOTICE,
    min_clips=100,
)


def manual_instructions(dest: Path) -> str:
    """How to get Bandai-Namco-1 by hand, for the error message when downloading fails."""
    return (
        "To get it by hand:\n"
        f"  1. Open {REPO_URL} (or on a machine with internet: git clone {REPO_URL}.git, with git-lfs installed,\n"
        "     or download https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset/"
        "archive/refs/heads/master.zip).\n"
        f"  2. From its folder {FOLDER}/ copy cfg/ and LICENSE into {dest}/, and unzip data.zip so that the\n"
        f"     .bvh and .json files end up in {dest}/data/.\n"
        f"  3. Run `make demo` again. Or keep the dataset elsewhere and set LAVIMO_DATA to the folder that holds\n"
        "     bandai-namco-1/ (or to the dataset folder itself)."
    )


def download_dataset(dest: str | os.PathLike, source: RemoteDataset = BANDAI_NAMCO_1, *, progress: bool = True,
                     timeout: float = 30.0) -> Path:
    """Download `source` into folder `dest` (which must not exist); raises DatasetDownloadError with manual steps.

    Everything is written into a hidden sibling folder and renamed to `dest` only when complete and checked.
    """
    dest = Path(dest).expanduser().resolve()
    if dest.exists():
        raise DatasetDownloadError(f"{dest} already exists; remove it or point LAVIMO_DATA at it instead of downloading.")
    made_parent = not dest.parent.exists()
    work = dest.parent / f".{dest.name}.download-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir(parents=True)
        archive = work / "data.zip"
        fetch(source.zip_url, archive, progress=progress, timeout=timeout, expected_size=source.zip_size)
        digest = _sha256(archive)
        if digest != source.zip_sha256:
            raise DatasetDownloadError(f"{source.zip_url} has sha256 {digest}, expected {source.zip_sha256}: the "
                                       "download is damaged or the repository changed.")
        final = work / source.name
        unpacked = work / "unpacked"
        extract_zip(archive, unpacked)
        _gather_clips(unpacked, final / "data", source.min_clips, source.zip_url)
        for rel, url in source.files.items():
            fetch(url, final / rel, progress=False, timeout=timeout)
        os.replace(final, dest)
    except (DatasetDownloadError, OSError) as exc:
        raise DatasetDownloadError(f"could not download {source.name}: {exc}\n{manual_instructions(dest)}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made_parent and dest.parent.is_dir() and not any(dest.parent.iterdir()):
            dest.parent.rmdir()  # a failed download leaves no empty data/ folder behind
    return dest


def fetch(url: str, path: Path, *, progress: bool = False, timeout: float = 30.0, expected_size: int | None = None) -> Path:
    """Stream `url` into `path` (written atomically: complete or not at all), with a tqdm bar when `progress`."""
    import http.client
    import urllib.error
    import urllib.request

    from tqdm import tqdm

    try:
        request = urllib.request.Request(url, headers={"User-Agent": "lavimo-demo"})
        with atomic_write(path) as part, urllib.request.urlopen(request, timeout=timeout) as response, \
                open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or expected_size
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {path.name}", disable=not progress,
                      file=sys.stderr, dynamic_ncols=True) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise DatasetDownloadError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DatasetDownloadError(f"{url}: {reason} (no internet connection, or a proxy/firewall blocks it?)") from None
    return path


def extract_zip(archive: str | os.PathLike, dest: str | os.PathLike, *, max_bytes: int = MAX_UNPACKED_BYTES) -> Path:
    """Unpack `archive` into folder `dest` (must not exist), all or nothing; refuses unsafe members.

    Unsafe: absolute paths, drive letters, '..' components, symbolic links, or more than `max_bytes` in all.
    Members are unpacked into a hidden sibling folder that is renamed to `dest` once every CRC checked out.
    """
    archive, dest = Path(archive), Path(dest)
    if dest.exists():
        raise DatasetDownloadError(f"cannot unpack {archive.name} into {dest}: it already exists")
    tmp = dest.parent / f".{dest.name}.unpacking-{uuid.uuid4().hex[:8]}"
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            _check_members(members, archive, max_bytes)
            tmp.mkdir(parents=True)
            for info in members:
                target = tmp.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # zf.open checks the CRC at the end of each member; a damaged archive raises BadZipFile.
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
        os.replace(tmp, dest)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise DatasetDownloadError(f"{archive}: not a valid zip archive or damaged ({exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _check_members(members: list[zipfile.ZipInfo], archive: Path, max_bytes: int) -> None:
    total = 0
    for info in members:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (parts and ":" in parts[0]) or ".." in parts or not parts:
            raise UnsafeArchiveError(f"{archive}: member {info.filename!r} would be written outside the target "
                                     "folder; the archive is not trustworthy, nothing was unpacked")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a symbolic link; refused, nothing "
                                     "was unpacked")
        total += info.file_size
        if total > max_bytes:
            raise UnsafeArchiveError(f"{archive}: unpacks to more than {max_bytes >> 20} MiB; refused, nothing "
                                     "was unpacked")


def _gather_clips(unpacked: Path, data_dir: Path, min_clips: int, url: str) -> None:
    """Move the .bvh files and their .json labels into `data_dir`, wherever the zip kept them."""
    clips = [p for p in unpacked.rglob("*.bvh")
             if not p.name.startswith("._") and "__MACOSX" not in p.relative_to(unpacked).parts]
    if len(clips) < min_clips:
        raise DatasetDownloadError(f"{url} holds {len(clips)} .bvh files, expected at least {min_clips}")
    data_dir.mkdir(parents=True)
    for bvh in clips:
        for f in (bvh, bvh.with_suffix(".json")):
            if f.is_file():
                os.replace(f, data_dir / f.name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
