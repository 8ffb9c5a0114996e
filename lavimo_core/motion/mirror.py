"""Left-right mirroring of motions (x -> -x) and of their captions, for data augmentation."""

from __future__ import annotations

import re

import numpy as np

from .features import FEATURE_SLICES, BadShapeError
from .skeleton import FEATURE_DIM, MIRROR_INDEX, NUM_JOINTS

_FLIP_X = np.array([-1.0, 1.0, 1.0])


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Mirror joints (..., 22, 3) across the YZ plane: x -> -x and left/right joints swapped."""
    j = np.asarray(joints)
    if j.ndim < 2 or j.shape[-2:] != (NUM_JOINTS, 3):
        raise BadShapeError(f"joints must have shape (T, {NUM_JOINTS}, 3); got {j.shape}")
    return (j[..., list(MIRROR_INDEX), :] * _FLIP_X).astype(j.dtype)


def _mirror_feature_index() -> tuple[np.ndarray, np.ndarray]:
    """Column permutation and signs that mirror a HumanML3D feature row."""
    perm, sign = np.arange(FEATURE_DIM), np.ones(FEATURE_DIM)
    sign[FEATURE_SLICES["root_rot_vel"]] = -1             # turning left becomes turning right
    sign[FEATURE_SLICES["root_lin_vel"].start] = -1       # sideways velocity
    for block, width, first in (("ric", 3, 1), ("rot6d", 6, 1), ("local_vel", 3, 0)):
        start = FEATURE_SLICES[block].start
        for j in range(first, NUM_JOINTS):
            dst = start + (j - first) * width
            src = start + (MIRROR_INDEX[j] - first) * width
            perm[dst:dst + width] = np.arange(src, src + width)
            # A rotation matrix M mirrors to S M S (S = diag(-1, 1, 1)): its 6D columns
            # (m00, m10, m20, m01, m11, m21) flip sign where exactly one index is 0.
            sign[dst:dst + width] = _FLIP_X if width == 3 else [1, -1, -1, -1, 1, 1]
    contact = FEATURE_SLICES["foot_contact"].start          # (l_ankle, l_foot, r_ankle, r_foot)
    perm[contact:contact + 4] = contact + np.array([2, 3, 0, 1])
    return perm, sign


_FEATURE_PERM, _FEATURE_SIGN = _mirror_feature_index()


def mirror_features(features: np.ndarray) -> np.ndarray:
    """Mirror HumanML3D features (..., 263) block by block, as HumanML3D's own mirrored clips (M*.npy) do.

    Exact for a left/right-symmetric reference skeleton; HumanML3D's reference skeleton is slightly
    asymmetric, so it differs a little from joints_to_features(mirror_joints(j)) (tests measure how much).
    """
    f = np.asarray(features)
    if f.shape[-1:] != (FEATURE_DIM,):
        raise BadShapeError(f"features must have shape (T, {FEATURE_DIM}); got {f.shape}")
    return (f[..., _FEATURE_PERM] * _FEATURE_SIGN).astype(f.dtype)


_SWAPS = {
    "left": "right", "right": "left",
    "leftward": "rightward", "rightward": "leftward",
    "leftwards": "rightwards", "rightwards": "leftwards", "leftmost": "rightmost", "rightmost": "leftmost",
    "clockwise": "counterclockwise", "counterclockwise": "clockwise",
    "counter-clockwise": "clockwise", "anticlockwise": "clockwise", "anti-clockwise": "clockwise",
}
# Longest first so "counter-clockwise" is taken whole, not as "counter-" + "clockwise".
_WORDS = re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, _SWAPS), key=len, reverse=True))
                    + r")(?!\w)", re.IGNORECASE)


def _same_case(word: str, like: str) -> str:
    """`word` with the capitalisation of `like` (lower, Title or UPPER)."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[0].upper() + word[1:] if like[0].isupper() else word


def mirror_caption(text: str) -> str:
    """Swap left/right words (and clockwise/counterclockwise) in a caption, keeping their case."""
    return _WORDS.sub(lambda m: _same_case(_SWAPS[m.group(0).lower()], m.group(0)), text)
