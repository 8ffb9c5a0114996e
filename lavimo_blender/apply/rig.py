"""Read an armature object's rest pose into a `lavimo_core` Rig (armature space, Blender's conventions)."""

from __future__ import annotations

import bpy
import numpy as np

from lavimo_core.retarget.rig import Rig


def read_rig(armature_obj: bpy.types.Object) -> Rig:
    """The rest pose of `armature_obj`'s bones: names, parents, bone.matrix_local and tails, armature space."""
    bones = armature_obj.data.bones
    n = len(bones)
    names = [b.name for b in bones]
    index = {name: i for i, name in enumerate(names)}
    matrices = np.empty(n * 16, dtype=np.float32)
    tails = np.empty(n * 3, dtype=np.float32)
    if n:
        bones.foreach_get("matrix_local", matrices)
        bones.foreach_get("tail_local", tails)
    # foreach_get flattens matrices column by column.
    rest = matrices.reshape(n, 4, 4).transpose(0, 2, 1).astype(np.float64)
    parents = [index[b.parent.name] if b.parent else -1 for b in bones]
    return Rig(names=names, parents=parents, rest_matrices=rest, tails=tails.reshape(n, 3).astype(np.float64),
               name=armature_obj.name)


def armature_to_world(armature_obj: bpy.types.Object) -> np.ndarray:
    """The object's world matrix (4, 4): armature space -> world space."""
    return np.array(armature_obj.matrix_world, dtype=np.float64)


def rotation_modes(armature_obj: bpy.types.Object) -> dict[str, str]:
    """Each pose bone's rotation mode ('QUATERNION', 'AXIS_ANGLE' or an Euler order such as 'XYZ')."""
    return {pb.name: pb.rotation_mode for pb in armature_obj.pose.bones}
