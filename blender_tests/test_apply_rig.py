"""The Blender side agrees with the core: rest poses read back as the core computes them, Euler curves as
Blender's own compatible-Euler conversion would write them."""

import mathutils
import numpy as np
import pytest

from blender_tests.rig_fixtures import clip
from lavimo_blender.apply.rig import read_rig
from lavimo_blender.apply.rig_builder import build_armature
from lavimo_core.retarget import RetargetOptions, detect_bone_map, solve
from lavimo_core.retarget.rig_presets import PRESET_NAMES, preset_rig, rig_preset
from lavimo_core.retarget.rotations import EULER_ORDERS, quaternions_to_euler


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_rest_pose_reads_back_as_the_core_computes_it(clean_scene, preset):
    obj = build_armature(preset)
    rig, want = read_rig(obj), preset_rig(preset)
    assert sorted(rig.names) == sorted(want.names) and rig.name == preset
    order = [rig.index(n) for n in want.names]  # Blender lists bones in its own (hierarchy) order
    assert [rig.names[rig.parents[i]] if rig.parents[i] >= 0 else None for i in order] == \
        [want.names[p] if p >= 0 else None for p in want.parents]
    units = rig_preset(preset).units_per_metre
    np.testing.assert_allclose(rig.rest_matrices[order, :3, :3], want.rest_matrices[:, :3, :3], atol=2e-5)
    np.testing.assert_allclose(rig.heads[order], want.heads, atol=1e-5 * units)
    np.testing.assert_allclose(rig.tails[order], want.tails, atol=1e-5 * units)
    assert np.allclose(np.array(obj.matrix_world)[:3, :3] @ rig_preset(preset).up,
                       np.array([0, 0, 1.0]) * np.linalg.norm(np.array(obj.matrix_world)[:3, 0]), atol=1e-6)


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_euler_curves_match_blenders_compatible_conversion(order):
    rig = preset_rig("apose")
    rotations = solve(clip("kick_normal_001"), rig, detect_bone_map(rig), RetargetOptions(fps=30)).rotations
    for bone in ("UpperArm_R", "Hips", "Foot_L"):
        q = rotations[bone]
        ours = quaternions_to_euler(q, order)
        previous, theirs = None, []
        for quat in q:
            rotation = mathutils.Quaternion(quat)
            e = rotation.to_euler(order, previous) if previous else rotation.to_euler(order)
            theirs.append(tuple(e))
            previous = e
        np.testing.assert_allclose(ours, np.array(theirs), atol=2e-5, err_msg=f"{bone} {order}")
