"""One content name per action across Bandai-Namco-1 and -2: the table holds on the joints, and training and
calibration see a Bandai-Namco-1 wave and a Bandai-Namco-2 wave as one action."""

import numpy as np
import pytest

from lavimo_core.data import load_dataset
from lavimo_core.data.bandai2 import CONTENT_PHRASES as B2_CONTENTS
from lavimo_core.data.bandai2 import check_sides
from lavimo_core.data.shared_actions import SAME_ACTION, shared_labels
from lavimo_core.model.calibration import related_contents
from lavimo_core.model.losses import label_positives
from lavimo_core.motion.mirror import mirror_joints
from lavimo_core.train.clips import mirror_labels, prepare_clips


@pytest.fixture(scope="module")
def bandai1():
    return load_dataset("bandai-namco-1")


def test_shared_labels():
    assert shared_labels({"content": "bye", "side": "right", "style": "happy"}) == {
        "content": "wave-right-hand", "style": "happy"}
    assert shared_labels({"content": "byebye", "style": "sad"}) == {"content": "wave-both-hands", "style": "sad"}
    # Unclear side, or no counterpart: unchanged.
    assert shared_labels({"content": "bye", "style": "sad"}) == {"content": "bye", "style": "sad"}
    assert shared_labels({"content": "guide", "side": "right"}) == {"content": "guide", "side": "right"}
    assert shared_labels({}) == {}
    assert set(SAME_ACTION.values()) <= set(B2_CONTENTS)


def test_every_renamed_clip_shows_what_bandai2_checks_for_that_content(bandai1):
    """Bandai-Namco-2's own joint check (which hands go up) passes on every Bandai-Namco-1 clip given its name,
    and on the clip's mirror under the mirrored name."""
    renamed = 0
    for m in bandai1.motions:
        shared = shared_labels(m.labels)
        if shared["content"] == m.labels["content"]:
            continue
        renamed += 1
        check_sides(m, shared["content"])
        mirrored = type(m)(**{**m.__dict__, "joints": mirror_joints(m.joints)})
        check_sides(mirrored, mirror_labels(shared)["content"])
    assert renamed >= 25  # 14 one-hand waves, 15 two-hand waves, 1 raised hand


def test_training_and_calibration_treat_both_datasets_waves_as_one_action(bandai1):
    b2 = load_dataset("bandai-namco-2-dev")
    pick = [next(m for m in bandai1.motions if m.labels == {"content": "bye", "side": "right", "style": "normal"}),
            next(m for m in b2.motions if m.labels["content"] == "wave-right-hand"),
            next(m for m in b2.motions if m.labels["content"] == "wave-left-hand"),
            next(m for m in bandai1.motions if m.labels["content"] == "bow")]
    clips = prepare_clips(pick, mirror=True, with_content_captions=False)
    labels = [c.views[0].labels for c in clips]
    content_only = [{k: v for k, v in lab.items() if k in ("content", "side")} for lab in labels]
    pos = label_positives(content_only, labels).numpy()
    # "waves the right hand" (either dataset's caption) and either dataset's right-hand wave: positives.
    assert pos[0, 1] and pos[1, 0]
    assert not pos[0, 2] and not pos[0, 3]
    # The mirrored Bandai-Namco-1 wave is a left-hand wave, like the Bandai-Namco-2 one.
    mirrored = clips[0].views[1].labels
    assert label_positives([{"content": mirrored["content"]}], [labels[2]]).numpy()[0, 0]
    # Calibration removes both datasets' waves together when it makes a wave query's action absent.
    family = related_contents(labels)
    assert family[0, 1] and family[0, 2] and not family[0, 3]
    assert np.array_equal(family, family.T)
