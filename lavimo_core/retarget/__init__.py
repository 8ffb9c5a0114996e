"""Retargeting: a canonical 22-joint motion onto any armature's rest pose, as pose-bone channels (no bpy).

`detect_bone_map(rig)` finds which bone plays which joint; `solve(motion, rig, bone_map, options)` returns
basis rotations and the root translation; `lavimo_blender.apply` reads the rig and writes the keys.
"""

from .bone_maps import BoneMap, BoneMapReport, detect_bone_map
from .errors import BoneMapError, EmptyMotionError, RetargetError
from .rig import Rig
from .solve import RetargetOptions, RetargetReport, RetargetResult, solve

__all__ = [
    "BoneMap", "BoneMapError", "BoneMapReport", "EmptyMotionError", "RetargetError", "RetargetOptions",
    "RetargetReport", "RetargetResult", "Rig", "detect_bone_map", "solve",
]
