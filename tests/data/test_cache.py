"""The converted-clip cache: warm loads skip parsing, changed or fixed files are re-read, bad files never cached."""

import shutil

import numpy as np
import pytest

import lavimo_core.data.cache as cache
import lavimo_core.motion.load as load_module
from lavimo_core.atomic import TEMP_GLOB
from lavimo_core.data import load_dataset
from lavimo_core.data.bvh_folder import load_bvh_folder
from lavimo_core.paths import find_dataset

DATA = find_dataset("bandai-namco-1") / "data"
CLIPS = ["dataset-1_guide_angry_001", "dataset-1_dash_giant_001", "dataset-1_slash_normal_001"]


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    for name in CLIPS:
        shutil.copy(DATA / f"{name}.bvh", root)
    return root


@pytest.fixture
def conversions(monkeypatch):
    """Names of the files load_motion actually parses."""
    seen = []
    real = load_module.load_motion

    def counting(path, **kw):
        seen.append(path.name if hasattr(path, "name") else str(path))
        return real(path, **kw)

    monkeypatch.setattr(load_module, "load_motion", counting)
    return seen


def same(a, b):
    assert [m.name for m in a.motions] == [m.name for m in b.motions]
    for x, y in zip(a.motions, b.motions):
        np.testing.assert_array_equal(x.joints, y.joints)
        np.testing.assert_array_equal(x.features, y.features)
        assert (x.captions, x.labels, x.source, x.fps) == (y.captions, y.labels, y.source, y.fps)
    assert a.splits == b.splits and a.skipped == b.skipped
    assert (a.license, a.attribution) == (b.license, b.attribution)


def test_second_load_comes_from_the_cache(cache_root, folder, conversions):
    first = load_bvh_folder(folder)
    assert sorted(conversions) == sorted(f"{n}.bvh" for n in CLIPS)
    conversions.clear()
    second = load_bvh_folder(folder)
    assert conversions == []
    same(first, second)
    assert len(list((cache_root / "import" / "datasets").glob("*.npz"))) == 1
    assert len(list((cache_root / "import" / "clips").glob("*.npz"))) == 3
    assert not list(cache_root.rglob(TEMP_GLOB))


def test_cached_default_dataset_equals_a_fresh_import(cache_root):
    fresh = load_dataset(use_cache=False)
    assert not (cache_root / "import").exists() or not any((cache_root / "import").rglob("*.npz"))
    load_dataset()                      # fills the cache
    same(load_dataset(), fresh)         # read back from it


def test_changed_file_is_read_again(cache_root, folder, conversions):
    load_bvh_folder(folder)
    path = folder / f"{CLIPS[1]}.bvh"
    lines = path.read_text().splitlines()
    at = lines.index("MOTION")
    n = len(lines) - at - 3
    keep = lines[: at + 1] + [f"Frames: {n - 20}", lines[at + 2]] + lines[at + 3: at + 3 + n - 20]
    path.write_text("\n".join(keep) + "\n")
    conversions.clear()
    ds = load_bvh_folder(folder)
    assert conversions == [path.name]   # only the changed file; the others from the clip cache
    m = next(m for m in ds.motions if m.name == CLIPS[1])
    assert m.num_frames == int((n - 21) / 30 * 20 + 1e-6) + 1


def test_bad_file_is_never_cached_and_is_read_again_once_fixed(cache_root, folder, conversions):
    good = (folder / f"{CLIPS[0]}.bvh").read_text()
    (folder / f"{CLIPS[0]}.bvh").write_text(good.replace("Frames:", "Frames: x", 1))
    ds = load_bvh_folder(folder)
    assert len(ds.motions) == 2 and "Frames:" in ds.skipped[0][1]
    assert len(list((cache_root / "import" / "clips").glob("*.npz"))) == 2
    ds = load_bvh_folder(folder)       # still reported from the dataset cache
    assert len(ds.motions) == 2 and ds.skipped[0][0].endswith(f"{CLIPS[0]}.bvh")
    (folder / f"{CLIPS[0]}.bvh").write_text(good)
    conversions.clear()
    ds = load_bvh_folder(folder)
    assert len(ds.motions) == 3 and ds.skipped == [] and conversions == [f"{CLIPS[0]}.bvh"]


def test_unexpected_errors_are_skipped_and_not_cached(cache_root, folder, monkeypatch):
    real = load_module.load_motion

    def flaky(path, **kw):
        if str(path).endswith(f"{CLIPS[2]}.bvh"):
            raise MemoryError("out of memory")
        return real(path, **kw)

    monkeypatch.setattr(load_module, "load_motion", flaky)
    ds = load_bvh_folder(folder)
    assert len(ds.motions) == 2 and "unexpected error (MemoryError" in ds.skipped[0][1]
    assert not (cache_root / "import" / "datasets").exists() or not list((cache_root / "import" / "datasets").iterdir())
    monkeypatch.setattr(load_module, "load_motion", real)
    assert len(load_bvh_folder(folder).motions) == 3


def test_code_change_invalidates(cache_root, folder, conversions, monkeypatch):
    load_bvh_folder(folder)
    conversions.clear()
    real = cache.code_version
    monkeypatch.setattr(cache, "code_version", lambda sources=cache.CLIP_SOURCES: "changed" + real(sources))
    import lavimo_core.data.bvh_dataset as bf
    monkeypatch.setattr(bf, "code_version", cache.code_version)
    load_bvh_folder(folder)
    assert sorted(conversions) == sorted(f"{n}.bvh" for n in CLIPS)


def test_code_version_follows_the_sources():
    v = cache.code_version()
    assert v == cache.code_version(cache.CLIP_SOURCES) and len(v) == 64
    assert cache.code_version(cache.DATASET_SOURCES) != v
    for rel in cache.DATASET_SOURCES:  # every listed source exists
        assert (cache._ROOT / rel).is_file(), rel


def test_corrupt_cache_files_are_misses(cache_root, folder, conversions):
    first = load_bvh_folder(folder)
    for f in (cache_root / "import").rglob("*.npz"):
        f.write_bytes(f.read_bytes()[:100])
    conversions.clear()
    second = load_bvh_folder(folder)
    assert len(conversions) == 3
    same(first, second)
    conversions.clear()
    same(load_bvh_folder(folder), first)
    assert conversions == []  # rewritten


def test_interrupted_write_leaves_no_file(cache_root, folder, monkeypatch):
    def broken(f, **arrays):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.np, "savez", broken)
    with pytest.raises(KeyboardInterrupt):
        load_bvh_folder(folder)
    assert not list(cache_root.rglob("*.npz")) and not list(cache_root.rglob(TEMP_GLOB))


def test_no_cache_writes_nothing(cache_root, folder):
    load_bvh_folder(folder, use_cache=False)
    assert not list(cache_root.rglob("*.npz"))


def test_cache_files_hold_no_pickles(cache_root, folder):
    load_bvh_folder(folder)
    for f in (cache_root / "import").rglob("*.npz"):
        with np.load(f, allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)
