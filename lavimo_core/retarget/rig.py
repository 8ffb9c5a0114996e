"""`Rig`: a target armature's rest pose (names, parents, rest matrices) in its own armature space.

Conventions follow Blender so the add-on can fill a Rig straight from `armature.data.bones`:
a rest matrix is `bone.matrix_local` (armature space; columns are the bone's axes, the bone points
along its local +Y, translation is the head), and a pose bone's basis B poses the bone as
`pose(b) = pose(parent) @ inv(rest(parent)) @ rest(b) @ B`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rig:
    """An armature's rest pose: bone names, parent indices (-1 = top level), rest matrices and tails."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rest_matrices: np.ndarray   # (N, 4, 4) armature space, Blender's bone.matrix_local
    tails: np.ndarray           # (N, 3) armature space, Blender's bone.tail_local
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "parents", tuple(int(p) for p in self.parents))
        object.__setattr__(self, "rest_matrices", np.asarray(self.rest_matrices, dtype=np.float64))
        object.__setattr__(self, "tails", np.asarray(self.tails, dtype=np.float64))
        n = len(self.names)
        if len(self.parents) != n or self.rest_matrices.shape != (n, 4, 4) or self.tails.shape != (n, 3):
            raise ValueError(f"rig {self.name!r}: names, parents, rest_matrices (N,4,4) and tails (N,3) disagree")
        if len(set(self.names)) != n:
            raise ValueError(f"rig {self.name!r}: bone names are not unique")
        if any(p < -1 or p >= n for p in self.parents):
            raise ValueError(f"rig {self.name!r}: a parent index is out of range")
        object.__setattr__(self, "_order", self._topological_order())   # raises on cycles; computed once

    @property
    def heads(self) -> np.ndarray:
        """Rest head positions (N, 3)."""
        return self.rest_matrices[:, :3, 3]

    @property
    def rest_rotations(self) -> np.ndarray:
        """Rest orientations (N, 3, 3), orthonormalised (Blender's matrix_local carries no scale)."""
        u, _, vt = np.linalg.svd(self.rest_matrices[:, :3, :3])
        return u @ vt

    @property
    def order(self) -> list[int]:
        """Bone indices with every parent before its children."""
        return list(self._order)

    def _topological_order(self) -> list[int]:
        order, placed = [], set()
        pending = list(range(len(self.names)))
        while pending:
            ready = [i for i in pending if self.parents[i] == -1 or self.parents[i] in placed]
            if not ready:
                raise ValueError(f"rig {self.name!r}: the parent links form a cycle")
            order += ready
            placed.update(ready)
            pending = [i for i in pending if i not in placed]
        return order

    def index(self, name: str) -> int:
        """Index of bone `name` (KeyError if absent)."""
        return self.names.index(name)

    def descendants(self, i: int) -> list[int]:
        """All bones below bone `i` (not including it)."""
        found, below = [], {i}
        for j in self._order:
            p = self.parents[j]
            if p in below:
                below.add(j)
                found.append(j)
        return found

    def ancestors(self, i: int) -> list[int]:
        """Parent, grandparent, ... of bone `i`, nearest first."""
        chain = []
        while self.parents[i] != -1:
            i = self.parents[i]
            chain.append(i)
        return chain


def bone_matrix(head: np.ndarray, tail: np.ndarray, roll: float) -> np.ndarray:
    """Blender's rest matrix (4, 4) of a bone from head, tail and roll (vec_roll_to_mat3 + head)."""
    y = np.asarray(tail, float) - np.asarray(head, float)
    y = y / np.linalg.norm(y)
    # Smallest rotation taking +Y onto the bone (axis in the XZ plane), then the roll about the bone;
    # thresholds as in Blender's vec_roll_to_mat3_normalized, so bones near -Y come out the same.
    x, yy, z = y
    theta, theta_alt = 1.0 + yy, x * x + z * z
    if theta > 6.1e-3 or theta_alt > 2.5e-4 ** 2:
        if theta <= 6.1e-3:
            theta = theta_alt * 0.5 + theta_alt * theta_alt * 0.125
        b = np.array([
            [1 - x * x / theta, x, -x * z / theta],
            [-x, yy, -z],
            [-x * z / theta, z, 1 - z * z / theta],
        ])
    else:  # exactly -Y: half a turn about Z
        b = np.diag([-1.0, -1.0, 1.0])
    c, s = np.cos(roll), np.sin(roll)
    roll_y = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    m = np.eye(4)
    m[:3, :3] = b @ roll_y
    m[:3, 3] = head
    return m


def forward_kinematics(rig: Rig, basis: np.ndarray) -> np.ndarray:
    """Posed armature-space matrices (T, N, 4, 4) from basis matrices (T, N, 4, 4), Blender's rule."""
    rest = rig.rest_matrices
    rest_inv = np.linalg.inv(rest)
    pose = np.empty_like(basis)
    for i in rig.order:
        p = rig.parents[i]
        local = rest[i] if p == -1 else rest_inv[p] @ rest[i]
        pose[:, i] = (local @ basis[:, i]) if p == -1 else pose[:, p] @ local @ basis[:, i]
    return pose
