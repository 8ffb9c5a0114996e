"""HumanML3D-layout loader, on a dataset folder built around the real clip 012314."""

import shutil

import numpy as np
import pytest

from lavimo_core.data.humanml3d import HumanML3DLayoutError, load_humanml3d
from lavimo_core.motion.features import features_to_joints
from lavimo_core.motion.mirror import mirror_caption, mirror_features, mirror_joints
from lavimo_core.paths import find_dataset

# Clip 012314: arms swing up, a leap to the side, then a walk back to the start (8.5 s).
TEXTS = [
    "a person swings both arms up, leaps to the left and walks back#a/DET person/NOUN swing/VERB both/DET "
    "arm/NOUN up/ADV leap/VERB to/ADP the/DET left/NOUN and/CCONJ walk/VERB back/ADV#0.0#0.0",
    "someone jumps sideways then returns#someone/PRON jump/VERB sideways/ADV then/ADV return/VERB#0.0#0.0",
    "a person walks back to where they started#a/DET person/NOUN walk/VERB back/ADV to/ADP where/ADV "
    "they/PRON start/VERB#2.0#5.0",
]


@pytest.fixture(scope="module")
def sample():
    root = find_dataset("humanml3d-sample")
    return root, np.load(root / "new_joint_vecs" / "012314.npy", allow_pickle=False)


@pytest.fixture
def dataset_root(tmp_path, sample):
    """012314 (train) and its mirror M012314 (test; HumanML3D ships mirrored clips under M ids)."""
    src, features = sample
    (tmp_path / "new_joint_vecs").mkdir()
    (tmp_path / "texts").mkdir()
    shutil.copy(src / "new_joint_vecs" / "012314.npy", tmp_path / "new_joint_vecs")
    np.save(tmp_path / "new_joint_vecs" / "M012314.npy", mirror_features(features))
    (tmp_path / "texts" / "012314.txt").write_text("\n".join(TEXTS) + "\n")
    (tmp_path / "texts" / "M012314.txt").write_text("\n".join(mirror_caption(t) for t in TEXTS[:2]) + "\n")
    (tmp_path / "train.txt").write_text("012314\n")
    (tmp_path / "val.txt").write_text("")
    (tmp_path / "test.txt").write_text("M012314\n")
    for name in ("Mean.npy", "Std.npy"):
        shutil.copy(src / name, tmp_path)
    return tmp_path


def _distances(joints):
    return np.linalg.norm(joints[:, :, None] - joints[:, None], axis=-1)


def test_loads_clips_subclips_and_splits(dataset_root, sample):
    src, features = sample
    data = load_humanml3d(dataset_root)
    names = [m.name for m in data.motions]
    assert names == ["012314", "012314_2", "M012314"]
    assert data.splits == {"train": [0, 1], "val": [], "test": [2]}
    assert data.skipped == [] and data.name == dataset_root.name

    whole, part, mirrored = data.motions
    assert whole.captions == [TEXTS[0].split("#")[0], TEXTS[1].split("#")[0]]
    assert np.array_equal(whole.features, features)
    joints = np.load(src / "new_joints" / "012314.npy", allow_pickle=False)
    assert np.abs(whole.joints - joints).max() < 1e-6
    assert whole.source.format == "humanml3d" and whole.fps == 20.0 and whole.duration == 8.5

    # The sub-clip is frames [2.0 s * 20, 5.0 s * 20) with only its own caption.
    assert part.captions == ["a person walks back to where they started"]
    assert np.array_equal(part.features, features[40:100])
    assert np.abs(part.joints[:, :, 1] - joints[40:100, :, 1]).max() < 1e-6      # heights kept
    assert np.abs(part.joints[0, 0, [0, 2]]).max() < 1e-6                         # starts at the origin
    assert np.abs(_distances(part.joints) - _distances(joints[40:100])).max() < 1e-5   # same poses

    assert mirrored.captions[0] == "a person swings both arms up, leaps to the right and walks back"
    assert np.abs(mirrored.joints - mirror_joints(joints)).max() < 1e-6


def test_one_split_and_max_motions(dataset_root):
    train = load_humanml3d(dataset_root, split="train")
    assert [m.name for m in train.motions] == ["012314", "012314_2"]
    assert train.splits == {"train": [0, 1], "val": [], "test": []}
    assert load_humanml3d(dataset_root, split="val").motions == []
    first = load_humanml3d(dataset_root, max_motions=1)
    assert [m.name for m in first.motions] == ["012314", "012314_2"]


def test_missing_layout_is_a_clear_error(dataset_root):
    (dataset_root / "test.txt").unlink()
    with pytest.raises(HumanML3DLayoutError, match="test.txt not found"):
        load_humanml3d(dataset_root, split="test")
    with pytest.raises(HumanML3DLayoutError, match="unknown split 'training'"):
        load_humanml3d(dataset_root, split="training")
    shutil.rmtree(dataset_root / "texts")
    with pytest.raises(HumanML3DLayoutError, match=r"texts not found.*new_joint_vecs/ .* and texts/"):
        load_humanml3d(dataset_root)
    shutil.rmtree(dataset_root / "new_joint_vecs")
    with pytest.raises(HumanML3DLayoutError, match="new_joint_vecs not found"):
        load_humanml3d(dataset_root)


def test_bad_files_and_lines_are_skipped_and_reported(dataset_root, sample):
    _, features = sample
    vecs, texts = dataset_root / "new_joint_vecs", dataset_root / "texts"
    with open(texts / "012314.txt", "a") as f:
        f.write("no fields here\n")                                   # line 4: malformed
        f.write("a person stands#a/DET person/NOUN stand/VERB#30.0#31.0\n")   # line 5: past the end
        f.write("a person moves#a/DET person/NOUN move/VERB#nan#nan\n")       # NaN tags = whole clip
    np.save(vecs / "000001.npy", features[:, :251])                  # KIT-ML-sized features
    (texts / "000001.txt").write_text(TEXTS[0] + "\n")
    np.save(vecs / "000002.npy", features)                           # no captions
    bad = features.copy()
    bad[5, 5] = np.nan
    np.save(vecs / "000003.npy", bad)
    (texts / "000003.txt").write_text(TEXTS[0] + "\n")
    (vecs / "000004.npy").write_bytes(b"not numpy")
    (texts / "000004.txt").write_text(TEXTS[0] + "\n")

    data = load_humanml3d(dataset_root)
    assert [m.name for m in data.motions] == ["012314", "012314_2", "M012314"]
    assert data.motions[0].captions[-1] == "a person moves"
    reasons = {file.replace(str(dataset_root), ""): reason for file, reason in data.skipped}
    assert "expected `caption#tokens#start#end`" in reasons["/texts/012314.txt:4"]
    assert "sub-clip 30.0-31.0 s is empty in a 8.50 s clip" in reasons["/texts/012314.txt:5"]
    assert "KIT-ML" in reasons["/new_joint_vecs/000001.npy"] and "(170, 251)" in reasons["/new_joint_vecs/000001.npy"]
    assert "texts/000002.txt not found" in reasons["/new_joint_vecs/000002.npy"]
    assert "NaN" in reasons["/new_joint_vecs/000003.npy"]
    assert "not a readable .npy" in reasons["/new_joint_vecs/000004.npy"]


def test_nothing_loadable_is_an_error(dataset_root):
    for path in (dataset_root / "texts").iterdir():
        path.unlink()
    with pytest.raises(HumanML3DLayoutError, match="no motion could be loaded .* no captions"):
        load_humanml3d(dataset_root)
    for path in (dataset_root / "new_joint_vecs").iterdir():
        path.unlink()
    with pytest.raises(HumanML3DLayoutError, match="has no .npy files"):
        load_humanml3d(dataset_root)


def test_recovered_joints_match_features(dataset_root):
    for motion in load_humanml3d(dataset_root).motions:
        assert np.array_equal(motion.joints, features_to_joints(motion.features))
