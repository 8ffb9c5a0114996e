"""Rotation curves for each Blender rotation mode: correct, and continuous over time (no long-way-round keys)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from lavimo_core.retarget import RetargetOptions, detect_bone_map, solve
from lavimo_core.retarget.rig_presets import preset_rig
from lavimo_core.retarget.rotations import (
    EULER_ORDERS,
    continuous_quaternions,
    quaternions_to_axis_angle,
    quaternions_to_euler,
    rotation_channels,
)


def _blender_euler_matrix(angles_xyz: np.ndarray, order: str) -> np.ndarray:
    """Blender's Euler (x, y, z angles; `order` applied first to last about fixed axes) as matrices."""
    seq = angles_xyz[..., ["XYZ".index(a) for a in order]]
    return Rotation.from_euler(order.lower(), seq.reshape(-1, 3)).as_matrix()


@pytest.fixture(scope="module")
def real_rotations(bandai_motions):
    """Basis quaternions of every bone of a rig on the spinning kick clip (large, fast rotations)."""
    rig = preset_rig("rigify")
    return solve(bandai_motions["kick_normal_001"], rig, detect_bone_map(rig), RetargetOptions(fps=30)).rotations


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_euler_is_blenders_convention_and_continuous(order, real_rotations):
    q = np.stack(list(real_rotations.values()), axis=1)        # (T, B, 4)
    euler = quaternions_to_euler(q, order)
    want = Rotation.from_quat(q.reshape(-1, 4), scalar_first=True).as_matrix()
    np.testing.assert_allclose(_blender_euler_matrix(euler, order), want, atol=1e-9)
    steps = np.abs(np.diff(euler, axis=0))
    assert steps.max() <= np.pi + 1e-9  # no whole turns between neighbours (near gimbal lock angles move fast)
    steps = steps.sum(-1)
    # Each frame takes the closest of the equivalent triples (both branches, whole turns) to the previous one.
    alternative = euler[1:] + (np.pi, np.pi, np.pi)
    alternative[..., "XYZ".index(order[1])] = np.pi - euler[1:, ..., "XYZ".index(order[1])]
    alternative -= 2 * np.pi * np.round((alternative - euler[:-1]) / (2 * np.pi))
    assert np.all(steps <= np.abs(alternative - euler[:-1]).sum(-1) + 1e-9)


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_euler_stays_continuous_through_gimbal_lock(order):
    # Turn about the order's middle axis through +-90 degrees, where the Euler triple switches branch.
    middle = order[1]
    angle = np.linspace(0, 2.2 * np.pi, 400)
    tilt = Rotation.from_euler(order[0].lower(), 0.3)
    q = (Rotation.from_euler(middle.lower(), angle[:, None]) * tilt).as_quat(scalar_first=True)
    euler = quaternions_to_euler(continuous_quaternions(q), order)
    np.testing.assert_allclose(_blender_euler_matrix(euler, order),
                               Rotation.from_quat(q, scalar_first=True).as_matrix(), atol=1e-9)
    assert np.abs(np.diff(euler, axis=0)).max() < 0.1


def test_quaternion_signs_are_made_continuous(real_rotations):
    q = real_rotations["DEF-thigh.L"]
    flipped = q * np.where(np.arange(len(q)) % 3 == 0, -1.0, 1.0)[:, None]
    fixed = continuous_quaternions(flipped)
    np.testing.assert_allclose(fixed, q if q[0, 0] >= 0 else -q, atol=1e-12)
    assert np.all(np.sum(fixed[1:] * fixed[:-1], axis=1) > 0)


def test_axis_angle_matches_and_holds_its_axis_at_rest(real_rotations):
    q = real_rotations["DEF-forearm.L"]
    aa = quaternions_to_axis_angle(q)
    np.testing.assert_allclose(Rotation.from_rotvec(aa[:, 1:] * aa[:, :1]).as_matrix(),
                               Rotation.from_quat(q, scalar_first=True).as_matrix(), atol=1e-9)
    still = np.tile([1.0, 0, 0, 0], (4, 1))
    still[2] = Rotation.from_rotvec([0, 0, 0.5]).as_quat(scalar_first=True)
    aa = quaternions_to_axis_angle(still)
    np.testing.assert_allclose(aa[:, 1:], [[0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])


def test_channels_follow_each_bones_mode(real_rotations):
    modes = {b: "QUATERNION" for b in real_rotations}
    modes.update({"DEF-spine": "ZXY", "DEF-thigh.L": "XYZ", "DEF-hand.L": "AXIS_ANGLE"})
    channels = rotation_channels(real_rotations, modes)
    assert channels["DEF-spine"][0] == "rotation_euler" and channels["DEF-spine"][1].shape[1] == 3
    assert channels["DEF-hand.L"][0] == "rotation_axis_angle" and channels["DEF-hand.L"][1].shape[1] == 4
    assert channels["DEF-shin.L"][0] == "rotation_quaternion"
    with pytest.raises(ValueError, match="unknown rotation mode 'XXY'"):
        rotation_channels(real_rotations, {**modes, "DEF-spine": "XXY"})
