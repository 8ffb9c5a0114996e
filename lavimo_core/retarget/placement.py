"""Where a canonical motion lands in a rig's armature space: the rig's own facing, up, floor and size,
read from its rest pose (never assumed), so rotated objects, Y-up imports and centimetre rigs all work."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..vectors import unit
from .bone_maps import BoneMap
from .rig import Rig

# A detected axis this close to an armature axis is snapped to it: a rest pose leans a little, and a
# tilted up axis would walk the character into (or off) the floor over a long clip.
SNAP_DEGREES = 12.0


def _snap(v: np.ndarray) -> np.ndarray:
    axis = np.zeros(3)
    k = int(np.argmax(np.abs(v)))
    axis[k] = np.sign(v[k])
    return axis if np.dot(v, axis) >= np.cos(np.radians(SNAP_DEGREES)) else v


@dataclass(frozen=True)
class RigPlacement:
    """Canonical (Y up, facing +Z, metres, floor y=0) -> armature space: p_arm = origin + scale * rotation @ p."""

    rotation: np.ndarray   # (3, 3); columns: the rig's left, up and forward axes in armature space
    scale: float           # armature units per source metre (target leg length / source leg length)
    origin: np.ndarray     # (3,) the floor point under the rest pelvis
    floor: float           # floor height along `up`: the rest pose's lowest foot point
    warnings: list[str] = field(default_factory=list)

    @property
    def up(self) -> np.ndarray:
        """The rig's up axis in armature space."""
        return self.rotation[:, 1]

    @property
    def forward(self) -> np.ndarray:
        """The direction the rig faces in armature space."""
        return self.rotation[:, 2]

    def canonical_to_armature(self) -> np.ndarray:
        """The 4x4 matrix taking canonical points to armature space."""
        m = np.eye(4)
        m[:3, :3] = self.scale * self.rotation
        m[:3, 3] = self.origin
        return m

    def to_armature(self, points: np.ndarray) -> np.ndarray:
        """Canonical points (..., 3) in armature space."""
        return self.origin + self.scale * points @ self.rotation.T


def foot_bones(rig: Rig, bone_map: BoneMap) -> list[int]:
    """The ankle bones and everything below them (toes, toe ends): their heads and tails touch the floor."""
    found = []
    for joint in ("left_ankle", "right_ankle"):
        i = rig.index(bone_map.joints[joint])
        found += [i] + rig.descendants(i)
    return found


def place_on_rig(rig: Rig, bone_map: BoneMap, source_leg_length: float) -> RigPlacement:
    """Detect the rig's facing, up, floor and size from its rest pose and the mapped bones."""
    head = {j: rig.heads[rig.index(b)] for j, b in bone_map.joints.items()}
    top = next(head[j] for j in ("head", "neck", "spine3", "spine2", "spine1") if j in head)
    up = _snap(unit(top - (head["left_ankle"] + head["right_ankle"]) / 2))
    across = unit(head["left_hip"] - head["right_hip"]) + unit(head["left_shoulder"] - head["right_shoulder"])
    left = _snap(unit(across - np.dot(across, up) * up))
    left = unit(left - np.dot(left, up) * up)
    forward = np.cross(left, up)
    warnings = []
    toes = [(head[f"{s}_foot"] - head[f"{s}_ankle"]) for s in ("left", "right") if f"{s}_foot" in head]
    if toes and all(np.dot(t, forward) < 0 for t in toes):
        warnings.append(f"armature {rig.name!r}: the toes point backwards for the facing found from the left/right "
                        "bones; are the left and right bone names swapped?")

    feet = foot_bones(rig, bone_map)
    floor = float(min(np.concatenate([rig.heads[feet], rig.tails[feet]]) @ up))
    legs = [np.linalg.norm(head[f"{s}_knee"] - head[f"{s}_hip"])
            + np.linalg.norm(head[f"{s}_ankle"] - head[f"{s}_knee"]) for s in ("left", "right")]
    scale = float(np.mean(legs) / source_leg_length)
    pelvis = head["pelvis"]
    origin = pelvis - (np.dot(pelvis, up) - floor) * up
    return RigPlacement(np.stack([left, up, forward], axis=1), scale, origin, floor, warnings)
