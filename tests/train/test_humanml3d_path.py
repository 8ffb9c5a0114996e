"""The HumanML3D/KIT-ML path a user with the data takes: loader -> humanml3d preset -> a few steps -> embedder.

Runs on the real HumanML3D sample clip (012314) laid out as a HumanML3D root, with captions cut into
sub-clips as HumanML3D's texts/ do (#start#end in seconds).
"""

import shutil

import numpy as np
import pytest

from lavimo_core.model.config import preset
from lavimo_core.model.embedder import Embedder
from lavimo_core.paths import find_dataset
from lavimo_core.train.loop import train

CAPTIONS = [  # caption#tokens#start#end
    "a person walks forward and turns around#a/DET person/NOUN#0.0#0.0",
    "a person walks in a circle#a/DET person/NOUN#0.0#2.5",
    "someone takes a few steps#someone/PRON#2.5#5.0",
    "a person steps forward slowly#a/DET person/NOUN#5.0#8.4",
    "the person turns and walks back#the/DET person/NOUN#1.0#4.0",
    "a man walks#a/DET man/NOUN#3.0#6.0",
]


@pytest.fixture
def humanml3d_root(tmp_path):
    src = find_dataset("humanml3d-sample")
    root = tmp_path / "HumanML3D"
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    shutil.copy(src / "new_joint_vecs" / "012314.npy", root / "new_joint_vecs")
    shutil.copy(src / "Mean.npy", root)
    shutil.copy(src / "Std.npy", root)
    (root / "texts" / "012314.txt").write_text("\n".join(CAPTIONS) + "\n")
    (root / "train.txt").write_text("012314\n")
    return root


@pytest.mark.slow
def test_humanml3d_preset_trains_and_embeds(humanml3d_root, tmp_path, capsys):
    cfg = preset("humanml3d")
    assert cfg.model.hidden_dim == 256 and cfg.model.motion_layers == 6 and cfg.train.device == "auto"
    cfg.train.dataset = str(humanml3d_root)
    cfg.train.max_steps, cfg.train.eval_every, cfg.train.warmup_steps = 2, 2, 1
    cfg.train.progress, cfg.train.device = False, "cpu"
    out = train(cfg, tmp_path / "run")
    # Without a progress bar (logs, CI) training still reports each validation as a plain line.
    assert "train: step 2/2, loss " in capsys.readouterr().err
    emb = Embedder.from_checkpoint(out)
    assert emb.text_max_tokens == cfg.model.text_max_tokens
    assert emb.count_text_tokens("a person walks") == 5      # [CLS] a person walks [SEP]
    assert emb.count_text_tokens(" ".join(["walk"] * 100)) == 102  # counted whole, not cut at the limit
    t = emb.embed_text(["a person walks in a circle"])
    from lavimo_core.data import load_dataset
    ds = load_dataset(str(humanml3d_root))
    assert len(ds.motions) == 6                           # the whole clip + 5 sub-clips
    m = emb.embed_motion(ds.motions)
    assert m.shape == (6, 256) and np.isfinite(t @ m.T).all()
    assert set(emb.calibration.platt) == {"text", "motion", "video"}
