import pytest

from lavimo_core.paths import DatasetNotFoundError, find_dataset


def test_finds_shared_bandai_namco():
    root = find_dataset("bandai-namco-1")
    assert len(list((root / "data").glob("*.bvh"))) == 174
    assert (root / "LICENSE").is_file()


def test_missing_dataset_names_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.setenv("LAVIMO_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="LAVIMO_DATA"):
        find_dataset("no-such-dataset")
