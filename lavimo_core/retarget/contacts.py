"""Foot and hand contacts: find when each source foot (or hand) is planted, and keep the rig's planted then.

A rig with other proportions than the source's slides its feet during contacts (the stride is scaled by
leg length, the body is not) and floats or sinks as the foot rolls. `detect_contacts` finds the planted
frames from the source (low and slow); `lock_feet` pins each planted foot to one spot on the floor (at the
foot's point that moves least across the contact: the ankle of a flat foot, the ball of one on its toes), its
lowest point on the floor, with a two-bone IK pass on thigh and shin (the foot keeps its own rotation, the
knee its bend plane), easing in and out around each contact so nothing pops. Hands on the floor (a dancer
leaning on one hand, a crawl) get the same at the wrist: `detect_hand_contacts` and `lock_hands` (upper arm and
forearm; a hand that would poke into the floor tips up at the wrist first).
"""

from __future__ import annotations

import numpy as np

from ..filters1d import binary_closing1d, binary_opening1d, gaussian_filter1d, maximum_filter1d, uniform_filter1d
from ..motion.skeleton import JOINT_INDEX
from ..rotations import rotvec_to_matrix
from ..vectors import unit
from .rig import Rig

CONTACT_HEIGHT_M = 0.06      # a foot joint (or a wrist) this close to the floor ...
CONTACT_SPEED_M_S = 0.2      # ... and moving this slowly is planted
MIN_CONTACT_S = 0.1          # shorter contacts and gaps are noise
BLEND_S = 0.15               # how long the lock eases in and out
MAX_HAND_PITCH_DEG = 45.0    # how far a hand may tip up at the wrist to keep its fingers out of the floor
HAND_PITCH_SMOOTHING_S = 0.05


def detect_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) booleans: left and right foot planted, from canonical joints (T, 22, 3) (metres, floor y=0)."""
    out = np.zeros((len(joints), 2), dtype=bool)
    if len(joints) < 2:
        return out
    n = max(1, int(round(MIN_CONTACT_S * fps)))
    for k, side in enumerate(("left", "right")):
        planted = np.zeros(len(joints), dtype=bool)
        for joint in (f"{side}_ankle", f"{side}_foot"):
            # The ankle sits above the floor even when planted: its height counts from its own lowest.
            planted |= _low_and_slow(joints[:, JOINT_INDEX[joint]], fps, from_lowest=joint.endswith("ankle"))
        out[:, k] = _steady(planted, n)
    return out


def detect_hand_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) booleans: left and right hand on the floor (wrist low and slow), from canonical joints (T, 22, 3)."""
    out = np.zeros((len(joints), 2), dtype=bool)
    if len(joints) < 2:
        return out
    n = max(1, int(round(MIN_CONTACT_S * fps)))
    for k, side in enumerate(("left", "right")):
        out[:, k] = _steady(_low_and_slow(joints[:, JOINT_INDEX[f"{side}_wrist"]], fps), n)
    return out


def _low_and_slow(path: np.ndarray, fps: float, from_lowest: bool = False) -> np.ndarray:
    """Frames where a joint's path (T, 3) is near the floor (or its own lowest) and moving slowly."""
    speed = np.linalg.norm(np.gradient(path, axis=0), axis=-1) * fps
    height = path[:, 1] - (path[:, 1].min() if from_lowest else 0.0)
    return (height < CONTACT_HEIGHT_M) & (speed < CONTACT_SPEED_M_S)


def _steady(planted: np.ndarray, n: int) -> np.ndarray:
    """Fill short gaps, then drop short contacts; padded with the end values so the clip's ends count too."""
    padded = np.pad(planted, n + 1, mode="edge")
    padded = binary_opening1d(binary_closing1d(padded, n + 1), n) if n > 1 else padded
    return padded[n + 1:-(n + 1)]


def contact_segments(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) frame ranges where `mask` (T,) is true."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotations (T, 3, 3) taking directions a onto b (T, 3)."""
    a, b = unit(a), unit(b)
    k = np.cross(a, b)
    c = np.sum(a * b, axis=-1)[:, None, None]
    kx = np.zeros(a.shape[:-1] + (3, 3))
    kx[..., 0, 1], kx[..., 0, 2], kx[..., 1, 2] = -k[..., 2], k[..., 1], -k[..., 0]
    kx = kx - np.swapaxes(kx, -1, -2)
    return np.eye(3) + kx + kx @ kx / np.maximum(1.0 + c, 1e-6)


def foot_targets(ankle: np.ndarray, lowest: np.ndarray, planted: np.ndarray, up: np.ndarray, floor: float,
                 fps: float, points: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where the ankle (T, 3) should be, and how much of that to take (T,): during each contact the foot's pivot
    stays over one spot with the foot's lowest point (`lowest`, T heights) on the floor, easing around it.

    The pivot is the ankle, or with `points` (T, P, 3: the foot's points, moving with the ankle) the one that moves
    least across the contact: the ball of a foot the source stands on with its heel raised, turning on it, while
    its ankle sweeps about (pinning that ankle would bend the leg away from the source and slide the ball)."""
    target = ankle.copy()
    weight = np.zeros(len(ankle))
    blend = max(1, int(round(BLEND_S * fps)))
    for a, b in contact_segments(planted):
        flat = ankle[a:b] - np.outer(ankle[a:b] @ up, up)
        if points is not None:
            moving = points[a:b] - (points[a:b] @ up)[..., None] * up
            wander = np.linalg.norm(moving - moving.mean(axis=0), axis=-1).max(axis=0)
            pivot = moving[:, int(np.argmin(wander))]
            flat = flat + (pivot.mean(axis=0) - pivot)   # the ankle wherever the pivot's spot puts it
        spot = flat.mean(axis=0) if points is None else flat
        height = ankle[a:b] @ up - (lowest[a:b] - floor)
        target[a:b] = spot + np.outer(height, up)
        weight[a:b] = 1.0
        # Ease: before and after the contact the offset it needed fades out linearly.
        for t in range(max(0, a - blend), a):
            w = 1.0 - (a - t) / (blend + 1)
            if w > weight[t]:
                target[t] = ankle[t] + (target[a] - ankle[a])
                weight[t] = w
        for t in range(b, min(len(ankle), b + blend)):
            w = 1.0 - (t - b + 1) / (blend + 1)
            if w > weight[t]:
                target[t] = ankle[t] + (target[b - 1] - ankle[b - 1])
                weight[t] = w
    return target, weight


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray,
                lengths: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Swing rotations (T, 3, 3) for the thigh and (after it) the shin that bring the ankle to `target`
    (clamped to the leg's reach), keeping the knee on the side it bends to."""
    a, b = lengths
    to_target = target - hip
    d = np.clip(np.linalg.norm(to_target, axis=-1), abs(a - b) + 1e-6, (a + b) * 0.9999)
    along = unit(to_target)
    bend = knee - hip
    perp = bend - np.sum(bend * along, -1, keepdims=True) * along
    # A straight leg says nothing about where the knee points: keep the rest knee's forward side then.
    perp = np.where(np.linalg.norm(perp, axis=-1, keepdims=True) > 1e-6 * a, perp, ankle - knee)
    perp = unit(perp - np.sum(perp * along, -1, keepdims=True) * along)
    cos_hip = np.clip((a * a + d * d - b * b) / (2 * a * d), -1.0, 1.0)[:, None]
    new_knee = hip + a * (cos_hip * along + np.sqrt(1 - cos_hip ** 2) * perp)
    new_ankle = hip + along * d[:, None]
    thigh = _swing(knee - hip, new_knee - hip)
    shin = _swing(np.einsum("tij,tj->ti", thigh, ankle - knee), new_ankle - new_knee)
    return thigh, shin


def lock_feet(rig: Rig, legs: dict[str, tuple[int, int, int]], feet: dict[str, list[int]], world: np.ndarray,
              heads: np.ndarray, planted: np.ndarray, up: np.ndarray, floor: float, fps: float,
              lower: list[int]) -> None:
    """Pin planted feet in place: lower the body where a planted foot cannot reach the floor (`lower`: the
    pelvis and the bones under it, their `heads` moved) and turn thigh and shin world rotations in `world`
    (T, N, 3, 3), all in place.

    `legs` gives (hip, knee, ankle) bone indices and `feet` the foot bones (ankle and below) per side.
    The caller recomputes the heads afterwards.
    """
    offsets = rig.tails - rig.heads
    goals, reach, below = {}, {}, {}
    for k, side in enumerate(("left", "right")):
        if side not in legs or not planted.any():
            continue
        hip, knee, ankle = legs[side]
        bones = feet[side]
        tails = heads[:, bones] + np.einsum("tkij,kj->tki", world[:, bones], offsets[bones])
        points = np.concatenate([heads[:, bones], tails], axis=1)
        lowest = (points @ up).min(axis=1)
        target, weight = foot_targets(heads[:, ankle], lowest, planted[:, k], up, floor, fps, points)
        goal = heads[:, ankle] + weight[:, None] * (target - heads[:, ankle])
        # Never below the floor: the lock may lift a foot, or pin it, not push it in.
        floor_goal = heads[:, ankle] @ up - (lowest - floor)
        goal += np.maximum(0.0, floor_goal - goal @ up)[:, None] * up
        lengths = (float(np.linalg.norm(rig.heads[knee] - rig.heads[hip])),
                   float(np.linalg.norm(rig.heads[ankle] - rig.heads[knee])))
        goals[side], reach[side] = (goal, weight > 0), lengths
        below[side] = lowest - heads[:, ankle] @ up   # the foot's lowest point under its ankle (IK keeps it)
    if not goals:
        return
    # Lower the body where a planted leg would have to stretch beyond its length (the source's proportions).
    drop = np.zeros(len(heads))
    for side, (goal, on) in goals.items():
        hip = heads[:, legs[side][0]]
        short = np.linalg.norm(goal - hip, axis=-1) - 0.995 * sum(reach[side])
        drop = np.maximum(drop, np.where(on, short, 0.0))
    if drop.any():
        heads[:, lower] -= eased_drop(drop, fps)[:, None, None] * up
    for side, (goal, on) in goals.items():
        hip, knee, ankle = legs[side]
        # A swinging foot the lowered body would push into the floor is lifted out of it.
        lift = np.maximum(0.0, floor - (heads[:, ankle] @ up + below[side]))
        free = ~on & (lift > 0)
        goal[free] = heads[free, ankle] + lift[free, None] * up
        on = on | free
        thigh, shin = two_bone_ik(heads[:, hip], heads[:, knee], heads[:, ankle], goal, reach[side])
        world[on, hip] = thigh[on] @ world[on, hip]
        world[on, knee] = shin[on] @ thigh[on] @ world[on, knee]


def eased_drop(drop: np.ndarray, fps: float) -> np.ndarray:
    """`drop` (T,) widened, then smoothed, so the body eases down and up and is low enough at every frame."""
    size = 2 * max(1, int(round(BLEND_S * fps))) + 1
    return uniform_filter1d(maximum_filter1d(np.maximum(drop, 0.0), size), size)


def hand_pitch(points: np.ndarray, wrist: np.ndarray, forearm: np.ndarray, up: np.ndarray, floor: float,
               fps: float) -> np.ndarray:
    """Rotations (T, 3, 3) about the wrist (T, 3) that tip the hand up, by the least angle up to MAX_HAND_PITCH_DEG,
    until its points (T, P, 3) are out of the floor: a hand longer than the source's (fingers, where the source has
    none) would otherwise poke into the floor as the source's wrist nears it, and only bending the arm away from
    the source would lift it out. Tipped about the horizontal axis across the hand (across the forearm when the hand
    hangs straight down); no turn where the hand stays well out of the floor."""
    rel = points - wrist[:, None]
    along = rel.mean(axis=1)
    along = along - np.outer(along @ up, up)
    across = forearm - np.outer(forearm @ up, up)
    along = unit(np.where(np.linalg.norm(along, axis=-1, keepdims=True) > 1e-6 * np.linalg.norm(forearm, axis=-1,
                                                                                               keepdims=True),
                          along, across))
    angles = np.radians(np.linspace(0.0, MAX_HAND_PITCH_DEG, int(MAX_HAND_PITCH_DEG) + 1))
    height = rel @ up
    clear = (floor - wrist @ up) - 1e-9           # how high over the wrist every point has to be
    angle = np.zeros(len(rel))
    sunk = height.min(axis=1) < clear
    if sunk.any():   # only those frames (few, if any): a point's height after tipping by a is u cos(a) + v sin(a)
        u, v = height[sunk], np.einsum("tpi,ti->tp", rel[sunk], along[sunk])
        low = (u[..., None] * np.cos(angles) + v[..., None] * np.sin(angles)).min(axis=1)   # (frames, angles)
        ok = low >= clear[sunk, None]
        angle[sunk] = angles[np.where(ok.any(axis=1), ok.argmax(axis=1), low.argmax(axis=1))]
    # A steep hand needs a large tip for a small lift: smoothed (never below what is needed, nor much above it, which
    # would lift a planted hand off the floor) so it does not snap by many degrees in one frame.
    if len(angle) > 1 and angle.any():
        angle = np.maximum(angle, gaussian_filter1d(angle, HAND_PITCH_SMOOTHING_S * fps, mode="nearest"))
    out = np.broadcast_to(np.eye(3), (len(rel), 3, 3)).copy()
    tipped = angle > 0
    out[tipped] = rotvec_to_matrix(unit(np.cross(along[tipped], up)) * angle[tipped, None])
    return out


def _hand_goals(rig: Rig, arms: dict[str, tuple[int, int, int]], hands: dict[str, list[int]], world: np.ndarray,
                heads: np.ndarray, planted: np.ndarray, up: np.ndarray, floor: float, fps: float) -> dict:
    """Per side: where the wrist goes (T, 3), how much of that to take (T,), on which frames (T,), the arm's two
    lengths, and the hand's tip at the wrist (T, 3, 3; `hand_pitch`)."""
    offsets = rig.tails - rig.heads
    out = {}
    for k, side in enumerate(("left", "right")):
        if side not in arms:
            continue
        shoulder, elbow, wrist = arms[side]
        bones = hands[side]
        tails = heads[:, bones] + np.einsum("tkij,kj->tki", world[:, bones], offsets[bones])
        points = np.concatenate([heads[:, bones], tails], axis=1)
        pitch = hand_pitch(points, heads[:, wrist], heads[:, wrist] - heads[:, elbow], up, floor, fps)
        tipped = np.trace(pitch, axis1=1, axis2=2) < 3.0 - 1e-12
        rel = points[tipped] - heads[tipped, wrist, None]
        points[tipped] = heads[tipped, wrist, None] + np.einsum("tij,tpj->tpi", pitch[tipped], rel)
        lowest = (points @ up).min(axis=1)
        target, weight = foot_targets(heads[:, wrist], lowest, planted[:, k], up, floor, fps)
        goal = heads[:, wrist] + weight[:, None] * (target - heads[:, wrist])
        goal += np.maximum(0.0, floor - (lowest + (goal - heads[:, wrist]) @ up))[:, None] * up
        lengths = (float(np.linalg.norm(rig.heads[elbow] - rig.heads[shoulder])),
                   float(np.linalg.norm(rig.heads[wrist] - rig.heads[elbow])))
        out[side] = (goal, weight, (weight > 0) | (lowest < floor) | tipped, lengths, pitch)
    return out


def hand_drop(rig: Rig, arms: dict[str, tuple[int, int, int]], hands: dict[str, list[int]], world: np.ndarray,
              heads: np.ndarray, planted: np.ndarray, up: np.ndarray, floor: float, fps: float) -> np.ndarray:
    """How far (T,) the body has to come down, eased, for each planted hand to reach the floor (a rig with
    shorter arms than the source's, for its height)."""
    drop = np.zeros(len(heads))
    for side, (goal, weight, _, lengths, _) in _hand_goals(rig, arms, hands, world, heads, planted, up, floor,
                                                          fps).items():
        gap = heads[:, arms[side][0]] - goal
        above = gap @ up
        across = np.linalg.norm(gap - np.outer(above, up), axis=-1)
        reach = 0.995 * sum(lengths)
        need = above - np.sqrt(np.maximum(reach * reach - across * across, 0.0))
        drop = np.maximum(drop, np.where(weight > 0, need, 0.0))
    return eased_drop(drop, fps) if drop.any() else drop


def lock_hands(rig: Rig, arms: dict[str, tuple[int, int, int]], hands: dict[str, list[int]], world: np.ndarray,
               heads: np.ndarray, planted: np.ndarray, up: np.ndarray, floor: float, fps: float) -> None:
    """Pin hands planted on the floor: each wrist over one spot with the hand's lowest point on the floor, by
    turning upper arm and forearm world rotations in `world` (T, N, 3, 3) in place; a hand that would go into
    the floor is tipped up at the wrist (`hand_pitch`) and, where that is not enough, lifted out of it. `arms`
    gives (shoulder, elbow, wrist) bone indices, `hands` the hand bones (wrist and below) per side. The body is
    not moved here (`hand_drop` says how far to lower it first). The caller recomputes the heads afterwards.
    """
    for side, (goal, _, on, lengths, pitch) in _hand_goals(rig, arms, hands, world, heads, planted, up, floor,
                                                           fps).items():
        if not on.any():
            continue
        shoulder, elbow, wrist = arms[side]
        upper, fore = two_bone_ik(heads[:, shoulder], heads[:, elbow], heads[:, wrist], goal, lengths)
        world[on, shoulder] = upper[on] @ world[on, shoulder]
        world[on, elbow] = fore[on] @ upper[on] @ world[on, elbow]
        tipped = np.trace(pitch, axis1=1, axis2=2) < 3.0 - 1e-12
        for bone in hands[side]:   # world rotations: the fingers keep their pose relative to the hand
            world[tipped, bone] = pitch[tipped] @ world[tipped, bone]
