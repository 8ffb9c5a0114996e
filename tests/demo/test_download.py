"""Fetching Bandai-Namco-1 when it is missing: real archives built from real clips, served by file:// URLs.

No test opens a network connection: the "unreachable" case points at a closed local port.
"""

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lavimo_core.data import load_dataset
from lavimo_core.data.download import (
    BANDAI_NAMCO_1,
    REPO_URL,
    DatasetDownloadError,
    RemoteDataset,
    UnsafeArchiveError,
    download_dataset,
    extract_zip,
)
from lavimo_core.paths import find_dataset

ROOT = find_dataset("bandai-namco-1")
CLIPS = ["dataset-1_bow_sad_001", "dataset-1_kick_normal_001", "dataset-1_walk-back_sad_001",
         "dataset-1_walk_happy_001"]
UNREACHABLE = "http://127.0.0.1:9/data.zip"   # the discard port: connection refused at once


def real_zip(path: Path, prefix: str = "data/") -> Path:
    """A zip of a few real Bandai-Namco clips (.bvh + .json), laid out as the upstream data.zip may be."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in CLIPS:
            for ext in (".bvh", ".json"):
                zf.write(ROOT / "data" / f"{name}{ext}", f"{prefix}{name}{ext}")
    return path


def remote(archive: Path, **changes) -> RemoteDataset:
    files = {"cfg/content_label.txt": (ROOT / "cfg" / "content_label.txt").as_uri(),
             "cfg/style_label.txt": (ROOT / "cfg" / "style_label.txt").as_uri(),
             "LICENSE": (ROOT / "LICENSE").as_uri()}
    fields = dict(name="bandai-namco-1", zip_url=archive.as_uri(),
                  zip_sha256=hashlib.sha256(archive.read_bytes()).hexdigest(), zip_size=archive.stat().st_size,
                  files=files, min_clips=len(CLIPS))
    fields.update(changes)
    return RemoteDataset(**fields)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("prefix", ["data/", "", "Bandai-Namco-Research-Motiondataset-1/data/"])
def test_download_unpacks_a_real_archive_into_a_loadable_dataset(tmp_path, prefix):
    archive = real_zip(tmp_path / "data.zip", prefix)
    dest = tmp_path / "data" / "bandai-namco-1"
    assert download_dataset(dest, remote(archive), progress=False) == dest.resolve()
    assert leftovers(dest.parent) == ["bandai-namco-1"]          # no temporary folder left next to it
    for name in CLIPS:
        assert (dest / "data" / f"{name}.bvh").read_bytes() == (ROOT / "data" / f"{name}.bvh").read_bytes()
        assert (dest / "data" / f"{name}.json").is_file()
    assert (dest / "LICENSE").read_text().startswith("Attribution-NonCommercial 4.0")
    ds = load_dataset(str(dest), use_cache=False)
    assert ds.name == "bandai-namco-1" and len(ds) == len(CLIPS) and ds.license == "CC BY-NC 4.0"
    assert {m.labels["content"] for m in ds.motions} == {"bow", "kick", "walk-back", "walk"}


def test_unreachable_url_explains_how_to_get_the_data_by_hand_and_writes_nothing(tmp_path):
    dest = tmp_path / "data" / "bandai-namco-1"
    source = RemoteDataset(name="bandai-namco-1", zip_url=UNREACHABLE, zip_sha256=BANDAI_NAMCO_1.zip_sha256,
                           zip_size=BANDAI_NAMCO_1.zip_size, files=BANDAI_NAMCO_1.files)
    with pytest.raises(DatasetDownloadError) as err:
        download_dataset(dest, source, progress=False, timeout=5)
    msg = str(err.value)
    assert UNREACHABLE in msg and "no internet connection" in msg
    assert "To get it by hand" in msg and REPO_URL in msg and str(dest.resolve()) in msg
    assert "unzip data.zip" in msg and "LAVIMO_DATA" in msg
    assert leftovers(tmp_path) == []                              # not even the data/ folder it would have made


def test_a_later_failure_removes_everything_already_downloaded(tmp_path):
    archive = real_zip(tmp_path / "data.zip")
    (tmp_path / "data").mkdir()
    source = remote(archive)
    source = RemoteDataset(**{**source.__dict__, "files": {**source.files, "LICENSE": UNREACHABLE}})
    with pytest.raises(DatasetDownloadError, match="To get it by hand"):
        download_dataset(tmp_path / "data" / "bandai-namco-1", source, progress=False, timeout=5)
    assert leftovers(tmp_path / "data") == []                     # the user's own data/ folder is kept, empty


def test_a_damaged_or_different_archive_is_refused(tmp_path):
    archive = real_zip(tmp_path / "data.zip")
    dest = tmp_path / "out" / "bandai-namco-1"
    with pytest.raises(DatasetDownloadError, match="sha256 .* expected 0{64}"):
        download_dataset(dest, remote(archive, zip_sha256="0" * 64), progress=False)
    assert not (tmp_path / "out").exists()
    with pytest.raises(DatasetDownloadError, match="holds 4 .bvh files, expected at least 100"):
        download_dataset(dest, remote(archive, min_clips=100), progress=False)
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_never_overwritten(tmp_path):
    dest = tmp_path / "bandai-namco-1"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep")
    with pytest.raises(DatasetDownloadError, match="already exists"):
        download_dataset(dest, remote(real_zip(tmp_path / "data.zip")), progress=False)
    assert leftovers(dest) == ["mine.txt"]


def test_extract_zip_unpacks_every_member_byte_for_byte(tmp_path):
    archive = real_zip(tmp_path / "data.zip")
    out = extract_zip(archive, tmp_path / "out")
    got = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert got == sorted(f"data/{n}{e}" for n in CLIPS for e in (".bvh", ".json"))
    assert (out / "data" / f"{CLIPS[0]}.bvh").read_bytes() == (ROOT / "data" / f"{CLIPS[0]}.bvh").read_bytes()


@pytest.mark.parametrize("evil", ["../evil.bvh", "data/../../evil.bvh", "/tmp/lavimo-evil.bvh",
                                  "C:/evil.bvh", "..\\evil.bvh"])
def test_extract_zip_refuses_members_outside_the_folder_and_writes_nothing(tmp_path, evil):
    archive = real_zip(tmp_path / "data.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(evil, b"HIERARCHY\n")
    (tmp_path / "inner").mkdir()
    with pytest.raises(UnsafeArchiveError, match="outside the target folder"):
        extract_zip(archive, tmp_path / "inner" / "out")
    assert leftovers(tmp_path / "inner") == []
    assert not (tmp_path / "evil.bvh").exists() and not Path("/tmp/lavimo-evil.bvh").exists()


def test_extract_zip_refuses_symbolic_links_and_zip_bombs(tmp_path):
    archive = real_zip(tmp_path / "data.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        link = zipfile.ZipInfo("data/link.bvh")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract_zip(archive, tmp_path / "out")
    with pytest.raises(UnsafeArchiveError, match="more than"):
        extract_zip(real_zip(tmp_path / "small.zip"), tmp_path / "out", max_bytes=100_000)
    assert not (tmp_path / "out").exists()


def test_extract_zip_of_a_corrupt_archive_leaves_nothing_half_written(tmp_path):
    archive = real_zip(tmp_path / "data.zip")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        last = zf.infolist()[-1]                  # damage the compressed bytes of the last member
        offset = last.header_offset + 30 + len(last.filename.encode()) + len(last.extra)
    for i in range(offset, offset + 8):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(DatasetDownloadError, match="damaged"):
        extract_zip(archive, tmp_path / "out")
    assert leftovers(tmp_path) == ["data.zip"]    # the earlier, intact members are gone with the temporary folder
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(bytes(data[:len(data) // 2]))
    with pytest.raises(DatasetDownloadError, match="damaged"):
        extract_zip(truncated, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_the_pinned_source_is_the_upstream_lfs_object():
    # data.zip is a Git LFS object: the raw URL would return its pointer, the media URL the file.
    assert BANDAI_NAMCO_1.zip_url.startswith("https://media.githubusercontent.com/media/BandaiNamcoResearchInc/")
    assert BANDAI_NAMCO_1.zip_url.endswith("/dataset/Bandai-Namco-Research-Motiondataset-1/data.zip")
    assert set(BANDAI_NAMCO_1.files) >= {"cfg/content_label.txt", "cfg/style_label.txt", "LICENSE"}
    assert "CC BY-NC 4.0" in BANDAI_NAMCO_1.license_notice and "non-commercial" in BANDAI_NAMCO_1.license_notice
    assert os.path.basename(BANDAI_NAMCO_1.zip_url) == "data.zip"
