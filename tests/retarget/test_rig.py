"""Rig: Blender's rest-matrix rule (head, tail, roll), validation, hierarchy helpers, forward kinematics."""

import numpy as np
import pytest

from lavimo_core.retarget.rig import Rig, bone_matrix, forward_kinematics
from lavimo_core.retarget.rig_presets import PRESET_NAMES, preset_rig, rig_preset


@pytest.mark.parametrize("tail", [(0.3, 0.5, -0.2), (0, -1, 0), (0, 1, 0), (1e-3, -1, 0), (0, 0, -2)])
def test_bone_matrix_points_along_y_and_rolls_about_it(tail):
    head = np.array([0.1, 0.2, 0.3])
    m0, m1 = bone_matrix(head, head + tail, 0.0), bone_matrix(head, head + tail, 0.8)
    for m in (m0, m1):
        r = m[:3, :3]
        np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-9)
        assert np.linalg.det(r) == pytest.approx(1.0)
        np.testing.assert_allclose(r[:, 1], np.array(tail) / np.linalg.norm(tail), atol=1e-9)
        np.testing.assert_allclose(m[:3, 3], head)
    # Roll turns the X axis about the bone by the roll angle.
    assert np.degrees(np.arccos(np.clip(m0[:3, 0] @ m1[:3, 0], -1, 1))) == pytest.approx(np.degrees(0.8))


def test_rig_rejects_inconsistent_input():
    m = np.broadcast_to(np.eye(4), (2, 4, 4))
    with pytest.raises(ValueError, match="disagree"):
        Rig(["a", "b"], [-1], m, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not unique"):
        Rig(["a", "a"], [-1, 0], m, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cycle"):
        Rig(["a", "b"], [1, 0], m, np.zeros((2, 3)))


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_presets_and_hierarchy(preset):
    rig = preset_rig(preset)
    spec = rig_preset(preset)
    assert len(rig.names) == len(spec.bones)
    order = rig.order
    assert sorted(order) == list(range(len(rig.names)))
    assert all(order.index(rig.parents[i]) < order.index(i) for i in order if rig.parents[i] != -1)
    # With every basis at rest the pose is the rest pose.
    pose = forward_kinematics(rig, np.broadcast_to(np.eye(4), (2, len(rig.names), 4, 4)))
    np.testing.assert_allclose(pose[1], rig.rest_matrices, atol=1e-9)
    if preset == "mixamo":
        assert len(rig.names) == 65
        hips = rig.index("mixamorig:Hips")
        assert len(rig.descendants(hips)) == 64 and rig.ancestors(rig.index("mixamorig:LeftHand"))[-1] == hips
