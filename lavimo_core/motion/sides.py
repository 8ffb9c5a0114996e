"""Which hand a motion raises and which way it turns, from the performer's point of view, read off the joints.

Geometry only, never joint names for the direction: forward is where the feet point (ankle -> toe,
horizontal), the performer's left is up x forward (the canonical space is right-handed, Y up, and
every importer uses proper rotations), and a turn to the left is a positive rotation of forward about
up. Dataset loaders use it to check that a "left"/"right" label says what the clip shows.
"""

from __future__ import annotations

import re

import numpy as np

from .features import BadShapeError
from .skeleton import JOINT_INDEX, NUM_JOINTS

UP = np.array([0.0, 1.0, 0.0])
# A hand counts as raised when the wrist comes this far (metres) above where the straight arm would hang
# (shoulder height minus arm length): ~0.55 with the arm held out level, ~1.1 straight up.
RAISE_MIN = 0.3
# Both hands when the weaker one climbs at least this fraction of the stronger one.
BOTH_RATIO = 0.5
# A turn when the facing direction ends this many degrees from where it started.
TURN_MIN_DEG = 45.0


def _check(joints: np.ndarray) -> np.ndarray:
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3) or len(j) < 2:
        raise BadShapeError(f"joints must have shape (T>=2, {NUM_JOINTS}, 3); got {j.shape}")
    return j


def forward_directions(joints: np.ndarray) -> np.ndarray:
    """Unit horizontal facing direction per frame (T, 3): mean of the two ankle -> toe vectors."""
    j = _check(joints)
    toes = (j[:, JOINT_INDEX["left_foot"]] + j[:, JOINT_INDEX["right_foot"]]) / 2
    ankles = (j[:, JOINT_INDEX["left_ankle"]] + j[:, JOINT_INDEX["right_ankle"]]) / 2
    f = (toes - ankles) * [1.0, 0.0, 1.0]
    return f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-9)


def turn_degrees(joints: np.ndarray) -> float:
    """Signed rotation of the facing direction from the first to the last second of the clip, in degrees:
    positive = the performer turned to their own left (counterclockwise seen from above)."""
    f = forward_directions(joints)
    k = max(1, min(20, len(f) // 4))             # about a second at 20 fps, to smooth out steps
    yaw = np.unwrap(np.arctan2(f[:, 0], f[:, 2]))  # angle about +Y, from +Z towards +X
    return float(np.degrees(yaw[-k:].mean() - yaw[:k].mean()))


def turn_side(joints: np.ndarray) -> str | None:
    """"left" / "right" when the performer turns at least TURN_MIN_DEG that way, else None."""
    deg = turn_degrees(joints)
    return None if abs(deg) < TURN_MIN_DEG else ("left" if deg > 0 else "right")


def hand_rise(joints: np.ndarray) -> dict[str, float]:
    """How far (metres) each wrist comes above where the straight arm hangs, keyed by the performer's side.

    The side is geometric: an arm is "left" when its shoulder lies on the up x forward side of the neck
    (forward from the feet), whatever the joint is called.
    """
    j = _check(joints)
    f = forward_directions(j)
    left_dir = np.cross(UP, f)
    out = {"left": 0.0, "right": 0.0}
    for name in ("left", "right"):
        shoulder, elbow, w = (j[:, JOINT_INDEX[f"{name}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
        arm = np.median(np.linalg.norm(elbow - shoulder, axis=-1) + np.linalg.norm(w - elbow, axis=-1))
        rise = w[:, 1] - (shoulder[:, 1] - arm)
        # The arm's side is where its shoulder sits (a waving hand may cross the midline; a shoulder cannot).
        side = float(np.mean(np.sum((shoulder - j[:, JOINT_INDEX["neck"]]) * left_dir, axis=-1)))
        key = "left" if side > 0 else "right"
        out[key] = max(out[key], float(rise.max()))
    return out


def raised_hands(joints: np.ndarray) -> str | None:
    """"left", "right" or "both" for the hand(s) the performer raises, None when no hand climbs RAISE_MIN."""
    rise = hand_rise(joints)
    hi, lo = max(rise.values()), min(rise.values())
    if hi < RAISE_MIN:
        return None
    if lo >= BOTH_RATIO * hi:
        return "both"
    return max(rise, key=rise.get)


def kicking_leg(joints: np.ndarray) -> str | None:
    """"left" / "right" for the leg whose ankle climbs highest (at least RAISE_MIN above its usual height),
    by the geometric side of its hip; None when no foot climbs that far."""
    j = _check(joints)
    left_dir = np.cross(UP, forward_directions(j))
    best, rise_best = None, RAISE_MIN
    for name in ("left", "right"):
        hip, ankle = j[:, JOINT_INDEX[f"{name}_hip"]], j[:, JOINT_INDEX[f"{name}_ankle"]]
        rise = float((ankle[:, 1] - np.median(ankle[:, 1])).max())
        side = "left" if np.mean(np.sum((hip - j[:, JOINT_INDEX["pelvis"]]) * left_dir, axis=-1)) > 0 else "right"
        if rise > rise_best:
            best, rise_best = side, rise
    return best


def dominant_hand(joints: np.ndarray, margin: float = 0.05) -> str | None:
    """The performer's side whose wrist climbs higher by at least `margin` metres (one hand leading an
    action both arms take part in), else None."""
    rise = hand_rise(joints)
    if abs(rise["left"] - rise["right"]) < margin or max(rise.values()) < RAISE_MIN:
        return None
    return max(rise, key=rise.get)



def named_sides(text: str) -> set[str]:
    """The side words ("left", "right") a caption or label uses."""
    return set(re.findall(r"(?<![a-z])(left|right)(?![a-z])", text.lower()))
