"""A folder of BVH files as a dataset: real clips, bad files skipped with reasons, caption sidecars, dispatch."""

import json
import shutil

import numpy as np
import pytest

from lavimo_core.data import DatasetError, MotionDataset, load_dataset
from lavimo_core.data.bvh_folder import hashed_split, load_bvh_folder, read_captions
from lavimo_core.motion.load import load_motion
from lavimo_core.paths import find_dataset

DATA = find_dataset("bandai-namco-1") / "data"
CLIPS = ["dataset-1_kick_normal_001", "dataset-1_bow_sad_001", "dataset-1_walk_old_002",
         "dataset-1_respond_normal_001", "dataset-1_call_normal_002"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LAVIMO_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "mocap"
    (root / "takes").mkdir(parents=True)
    for i, name in enumerate(CLIPS):
        shutil.copy(DATA / f"{name}.bvh", (root / "takes" if i % 2 else root) / f"{name}.bvh")
    return root


def add_bad_files(root):
    lines = (DATA / "dataset-1_bye_happy_001.bvh").read_text().splitlines()
    (root / "truncated.bvh").write_text("\n".join(lines[:200]) + "\n")
    at = lines.index("MOTION") + 5
    parts = lines[at].split()
    parts[17] = "nan"
    (root / "nan.bvh").write_text("\n".join(lines[:at] + [" ".join(parts)] + lines[at + 1:]) + "\n")
    (root / "empty.BVH").write_text("")
    (root / "robot.bvh").write_text((DATA / "dataset-1_bye_happy_001.bvh").read_text()
                                    .replace("Hips", "Base").replace("Hand_L", "Gripper"))


def test_folder_of_real_clips(folder):
    ds = load_bvh_folder(folder)
    assert isinstance(ds, MotionDataset) and ds.name == "mocap" and ds.skipped == []
    assert sorted(m.name for m in ds.motions) == sorted(CLIPS)
    ref = load_motion(DATA / f"{CLIPS[0]}.bvh")
    got = next(m for m in ds.motions if m.name == CLIPS[0])
    np.testing.assert_array_equal(got.joints, ref.joints)
    np.testing.assert_array_equal(got.features, ref.features)
    assert got.captions == [] and got.labels == {}
    assert sorted(i for v in ds.splits.values() for i in v) == list(range(5))


def test_bad_files_are_skipped_with_reasons(folder):
    add_bad_files(folder)
    ds = load_dataset(str(folder))
    assert len(ds.motions) == 5
    reasons = {f.split("/")[-1]: r for f, r in ds.skipped}
    assert set(reasons) == {"truncated.bvh", "nan.bvh", "empty.BVH", "robot.bvh"}
    assert "truncated" in reasons["truncated.bvh"] and "truncated.bvh:" in reasons["truncated.bvh"]
    assert "non-finite" in reasons["nan.bvh"] and "nan.bvh:" in reasons["nan.bvh"]
    assert "empty" in reasons["empty.BVH"]
    assert "left_wrist" in reasons["robot.bvh"] and "pelvis" in reasons["robot.bvh"]


def test_csv_sidecar(folder):
    (folder / "captions.csv").write_text(
        "file,caption\n"
        f"{CLIPS[0]}.bvh,a person kicks high\n"
        f"{CLIPS[0]}.bvh,\"someone kicks, twice\"\n"
        f"takes/{CLIPS[1]},a sad bow,a person bows slowly\n"
        f"nothing.bvh,a ghost\n")
    ds = load_bvh_folder(folder)
    caps = {m.name: m.captions for m in ds.motions}
    assert caps[CLIPS[0]] == ["a person kicks high", "someone kicks, twice"]
    assert caps[CLIPS[1]] == ["a sad bow", "a person bows slowly"]
    assert caps[CLIPS[2]] == []
    assert [r for f, r in ds.skipped if f.endswith("captions.csv")] == [
        f"captions for 'nothing.bvh', but no such .bvh file in {folder}"]


def test_json_sidecar_and_explicit_path(folder, tmp_path):
    side = tmp_path / "my_captions.json"
    side.write_text(json.dumps({CLIPS[2]: "an old person walks", f"{CLIPS[3]}.bvh": ["raises a hand", "answers"]}))
    ds = load_bvh_folder(folder, captions=side)
    caps = {m.name: m.captions for m in ds.motions}
    assert caps[CLIPS[2]] == ["an old person walks"] and caps[CLIPS[3]] == ["raises a hand", "answers"]


def test_sidecar_change_is_picked_up_through_the_cache(folder):
    (folder / "captions.json").write_text(json.dumps({CLIPS[0]: "first"}))
    assert next(m for m in load_bvh_folder(folder).motions if m.name == CLIPS[0]).captions == ["first"]
    (folder / "captions.json").write_text(json.dumps({CLIPS[0]: "second"}))
    assert next(m for m in load_bvh_folder(folder).motions if m.name == CLIPS[0]).captions == ["second"]


def test_malformed_sidecars(folder):
    (folder / "captions.json").write_text('{"a.bvh": "x",\n "b.bvh": }')
    with pytest.raises(DatasetError, match=r"captions.json:2: not valid JSON"):
        load_bvh_folder(folder)
    (folder / "captions.json").write_text('{"a.bvh": 3}')
    with pytest.raises(DatasetError, match="must be a string or a list"):
        load_bvh_folder(folder)
    (folder / "captions.json").unlink()
    (folder / "captions.csv").write_text("a.bvh,fine\njust-a-name\n")
    with pytest.raises(DatasetError, match=r"captions.csv:2: expected 'file,caption'"):
        read_captions(folder / "captions.csv")


def test_same_stem_in_two_subfolders_gets_unique_names(folder):
    shutil.copy(folder / f"{CLIPS[0]}.bvh", folder / "takes" / f"{CLIPS[0]}.bvh")
    names = sorted(m.name for m in load_bvh_folder(folder).motions)
    assert f"{CLIPS[0]}" in names and f"takes/{CLIPS[0]}" in names and len(set(names)) == 6


def test_folder_without_bvh_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no .bvh files"):
        load_dataset(str(tmp_path / "empty"))


def test_dispatch(tmp_path, folder):
    assert load_dataset(str(folder)).name == "mocap"
    with pytest.raises(DatasetError, match="no such dataset or folder"):
        load_dataset(str(tmp_path / "missing"))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(str(tmp_path / "file.txt"))


def test_humanml3d_root_goes_to_the_humanml3d_loader(tmp_path):
    sample = find_dataset("humanml3d-sample")
    root = tmp_path / "hml"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    shutil.copy(sample / "new_joint_vecs" / "012314.npy", root / "new_joint_vecs")
    (root / "texts" / "012314.txt").write_text("a person moves#a/DET person/NOUN move/VERB#0.0#0.0\n")
    ds = load_dataset(str(root))
    assert [m.name for m in ds.motions] == ["012314"] and ds.motions[0].source.format == "humanml3d"
    assert ds.motions[0].captions == ["a person moves"]


def test_hashed_split_is_deterministic():
    names = [f"clip{i}" for i in range(40)]
    a = hashed_split(names)
    assert a == hashed_split(list(names))
    assert {k: len(v) for k, v in a.items()} == {"train": 28, "val": 6, "test": 6}
    rev = hashed_split(names[::-1])
    assert {k: sorted(names[::-1][i] for i in v) for k, v in rev.items()} == {
        k: sorted(names[i] for i in v) for k, v in a.items()}
