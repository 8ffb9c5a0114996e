"""A human-shaped body built around the 22 canonical joints: capsules for limbs, ellipsoids for torso and head.

MediaPipe finds people by their face and body outline, so the body keeps adult proportions (a
head with hair, eyes, nose and ears; a chest wider than deep; hips; hands; shoes) rather than a
stick figure. The shirt's neckline (front only) and dark brows tell front from back even when the
hair is the colour of the skin. It is also built tight around the skeleton: MediaPipe places shoulders, hips and
ankles from the outline, so flesh well beyond a joint pulls its landmark away from the joint.
Mocap skeletons such as Bandai-Namco's have narrow shoulder and hip joints (about 21 and 13 cm
apart), and a chest and hips sized for an average adult moved MediaPipe's shoulders and hips
0.04-0.06 torso lengths outward and down (bench_video's PCK went from 0.756 to 0.786 with this build).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion.skeleton import JOINT_INDEX as J
from ..vectors import unit

# Materials; the renderer colours each from the Look (HEAD also gets the face texture, CHEST the neckline).
SKIN, SHIRT, SLEEVE, TROUSERS, SHIN, SHOES, HAIR, HEAD, CHEST = range(1, 10)


@dataclass(frozen=True)
class Look:
    """Colours, build, light and background of one render (RGB in 0..1)."""

    skin: tuple[float, float, float]
    shirt: tuple[float, float, float]
    trousers: tuple[float, float, float]
    shoes: tuple[float, float, float]
    hair: tuple[float, float, float]
    long_sleeves: bool
    shorts: bool
    build: float                                 # limb/torso thickness factor
    light: tuple[float, float, float]            # unit direction towards the light (world)
    ambient: float
    floor: tuple[float, float, float]
    floor_tile: float                            # checker size in metres (0: plain floor)
    wall: tuple[float, float, float]
    wall_detail: int                             # seed of the wall's panels

    def colour(self, material: int) -> np.ndarray:
        """Albedo of a material."""
        return np.array({
            SKIN: self.skin, HEAD: self.skin, SHIRT: self.shirt, CHEST: self.shirt,
            SLEEVE: self.shirt if self.long_sleeves else self.skin,
            TROUSERS: self.trousers, SHIN: self.skin if self.shorts else self.trousers,
            SHOES: self.shoes, HAIR: self.hair,
        }[material], np.float32)


_SKINS = [(0.96, 0.80, 0.69), (0.92, 0.72, 0.58), (0.84, 0.62, 0.47), (0.70, 0.50, 0.36),
          (0.55, 0.37, 0.25), (0.40, 0.26, 0.17)]
_HAIRS = [(0.08, 0.06, 0.05), (0.25, 0.15, 0.08), (0.45, 0.30, 0.15), (0.75, 0.62, 0.38), (0.5, 0.5, 0.5)]


def random_look(rng: np.random.Generator) -> Look:
    """A look drawn at random: skin tone, clothes, hair, light and room."""
    def colour(lo=0.05, hi=0.95):
        return tuple(float(c) for c in rng.uniform(lo, hi, 3))

    skin = np.array(_SKINS[rng.integers(len(_SKINS))]) * rng.uniform(0.92, 1.05)
    light_az, light_el = rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(30, 75))
    light = (np.cos(light_el) * np.sin(light_az), np.sin(light_el), np.cos(light_el) * np.cos(light_az))
    return Look(
        skin=tuple(float(c) for c in np.clip(skin, 0, 1)),
        shirt=colour(), trousers=colour(0.05, 0.7), shoes=colour(0.02, 0.4),
        hair=tuple(float(c) for c in np.array(_HAIRS[rng.integers(len(_HAIRS))]) * rng.uniform(0.8, 1.2)),
        long_sleeves=bool(rng.random() < 0.6), shorts=bool(rng.random() < 0.25),
        build=float(rng.uniform(0.9, 1.15)),
        light=tuple(float(c) for c in light), ambient=float(rng.uniform(0.3, 0.5)),
        floor=colour(0.15, 0.8), floor_tile=float(rng.choice([0.0, 0.5, 1.0])),
        wall=colour(0.3, 0.95), wall_detail=int(rng.integers(0, 2**31 - 1)),
    )


@dataclass
class Capsule:
    """A capsule from a to b; tapered (a rounded cone) when radius_b differs from radius."""

    a: np.ndarray       # (3,)
    b: np.ndarray
    radius: float
    material: int
    radius_b: float | None = None

    @property
    def max_radius(self) -> float:
        """The larger end radius."""
        return max(self.radius, self.radius if self.radius_b is None else self.radius_b)


@dataclass
class Ellipsoid:
    """An ellipsoid: centre, local axes as rows, radii along them."""

    center: np.ndarray  # (3,)
    axes: np.ndarray    # (3, 3) rows: local x (left), y (up), z (forward) in world
    radii: np.ndarray   # (3,)
    material: int


# Head ellipsoid: centre offset from the head joint along the head's (up, forward) axes, and radii (left, up, forward).
HEAD_OFFSET = (0.065, 0.012)
HEAD_RADII = (0.078, 0.108, 0.095)


def body_frame(across: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Orthonormal (left, up, forward) rows (..., 3, 3) from left-pointing and up-pointing vectors (..., 3)."""
    up = unit(up)
    left = unit(across - (across * up).sum(-1, keepdims=True) * up)
    return np.stack([left, up, np.cross(left, up)], -2)


def head_pose(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (..., 3) and axes (..., 3, 3) of the head ellipsoid for joints p (..., 22, 3)."""
    axes = body_frame(p[..., J["left_shoulder"], :] - p[..., J["right_shoulder"], :],
                      p[..., J["head"], :] - p[..., J["neck"], :])
    centre = p[..., J["head"], :] + HEAD_OFFSET[0] * axes[..., 1, :] + HEAD_OFFSET[1] * axes[..., 2, :]
    return centre, axes


def heel_and_toe(p: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Ends (..., 3) of the shoe's axis: behind-below the ankle, and past the toe joint."""
    knee, ankle, toe = p[..., J[f"{side}_knee"], :], p[..., J[f"{side}_ankle"], :], p[..., J[f"{side}_foot"], :]
    fdir = unit(toe - ankle)
    # A low-cut shoe: its top sits below the ankle joint, where MediaPipe puts the ankle.
    return ankle + 0.06 * unit(ankle - knee) - 0.035 * fdir, toe + 0.04 * fdir


@dataclass
class BodyParts:
    """Every frame's primitives as arrays: capsules (T, Nc, ...) and ellipsoids (T, Ne, ...)."""

    cap_a: np.ndarray        # (T, Nc, 3)
    cap_b: np.ndarray        # (T, Nc, 3)
    cap_ra: np.ndarray       # (T, Nc) radius at a
    cap_rb: np.ndarray       # (T, Nc) radius at b
    cap_mat: np.ndarray      # (Nc,)
    ell_c: np.ndarray        # (T, Ne, 3)
    ell_axes: np.ndarray     # (T, Ne, 3, 3)
    ell_radii: np.ndarray    # (T, Ne, 3)
    ell_mat: np.ndarray      # (Ne,)


def body_parts(p: np.ndarray, look: Look) -> BodyParts:
    """The body's primitives for canonical joints p (T, 22, 3), all frames at once."""
    k = look.build
    p = np.asarray(p, np.float64)
    T = len(p)
    j = lambda name: p[:, J[name]]  # noqa: E731 - joint positions (T, 3)
    hips_across = j("left_hip") - j("right_hip")
    shoulders_across = j("left_shoulder") - j("right_shoulder")
    pelvis_f = body_frame(hips_across, j("spine1") - j("pelvis"))
    chest_f = body_frame(shoulders_across, j("neck") - j("spine3"))
    belly_f = body_frame(hips_across + shoulders_across, j("spine3") - j("spine1"))
    head_c, head_f = head_pose(p)
    span = np.linalg.norm(shoulders_across, axis=-1)
    hip_span = np.linalg.norm(hips_across, axis=-1)
    caps, ells = [], []

    def radii(*r) -> np.ndarray:
        return np.stack([np.broadcast_to(np.asarray(x, np.float64), (T,)) for x in r], -1)

    # Torso: overlapping ellipsoids from hips to chest whose widths change smoothly, so the
    # silhouette reads as one trunk (hips, waist, ribcage), and a shoulder line the arms join.
    hip_w = np.maximum(0.5 * hip_span + 0.05, 0.11) * k
    # The hips hang from the hip joints (skeletons disagree on how far below the pelvis joint they
    # are); centred above them, since an outline reaching far below the joints drew MediaPipe's hips down.
    mid_hip = (j("left_hip") + j("right_hip")) / 2
    ells.append((mid_hip + 0.06 * pelvis_f[:, 1] - 0.01 * pelvis_f[:, 2], pelvis_f, radii(hip_w, 0.105, 0.105 * k),
                 TROUSERS))
    ells.append(((j("pelvis") + j("spine1")) / 2 + 0.02 * pelvis_f[:, 1], pelvis_f, radii(hip_w * 0.95, 0.09, 0.1 * k),
                 TROUSERS))
    ells.append(((j("spine1") + j("spine2")) / 2 + 0.02 * belly_f[:, 1], belly_f, radii(0.135 * k, 0.11, 0.095 * k),
                 SHIRT))
    chest_c = j("spine3") + 0.2 * (j("neck") - j("spine3"))
    ells.append((chest_c, chest_f, radii(np.maximum(0.5 * span, 0.11) * k, 0.16, 0.11 * k), CHEST))
    caps.append((j("left_shoulder") - 0.025 * chest_f[:, 1], j("right_shoulder") - 0.025 * chest_f[:, 1],
                 0.045 * k, 0.045 * k, SHIRT))

    # Neck and head (with nose and ears; eyes, mouth and hair are painted by the renderer).
    caps.append((j("neck") - 0.02 * chest_f[:, 1], j("head"), 0.052 * k, 0.045 * k, SKIN))
    ells.append((head_c, head_f, radii(*HEAD_RADII), HEAD))
    ells.append((head_c + 0.09 * head_f[:, 2] - 0.012 * head_f[:, 1], head_f, radii(0.013, 0.024, 0.02), SKIN))
    for side in (1, -1):
        ells.append((head_c + side * 0.074 * head_f[:, 0] - 0.005 * head_f[:, 1], head_f, radii(0.012, 0.03, 0.02),
                     SKIN))

    # Limbs, tapering from the body out; mitten hands with a thumb; shoes.
    for s in ("left", "right"):
        sh, el, wr = j(f"{s}_shoulder"), j(f"{s}_elbow"), j(f"{s}_wrist")
        caps.append((sh, el, 0.045 * k, 0.042 * k, SLEEVE if look.long_sleeves else SHIRT))
        caps.append((el, wr, 0.042 * k, 0.031 * k, SLEEVE))
        along = unit(wr - el)
        thumb = chest_f[:, 2] - (chest_f[:, 2] * along).sum(-1, keepdims=True) * along
        thumb = np.where(np.linalg.norm(thumb, axis=-1, keepdims=True) > 1e-6, unit(thumb), chest_f[:, 0])
        flat = np.cross(along, thumb)
        ells.append((wr + 0.06 * along, np.stack([thumb, along, flat], -2), radii(0.04, 0.062, 0.02), SKIN))
        caps.append((wr + 0.02 * along + 0.025 * thumb, wr + 0.06 * along + 0.05 * thumb, 0.012, 0.012, SKIN))
        hip, kn, an = j(f"{s}_hip"), j(f"{s}_knee"), j(f"{s}_ankle")
        # The thigh starts a little above the hip joint, merging into the pelvis as a real one does.
        caps.append((hip + 0.02 * pelvis_f[:, 1], kn, 0.07 * k, 0.056 * k, TROUSERS))
        caps.append((kn, an, 0.056 * k, 0.04 * k, SHIN))
        heel, toe = heel_and_toe(p, s)
        caps.append((heel, toe, 0.037, 0.035, SHOES))

    return BodyParts(
        cap_a=np.stack([c[0] for c in caps], 1), cap_b=np.stack([c[1] for c in caps], 1),
        cap_ra=np.tile([c[2] for c in caps], (T, 1)), cap_rb=np.tile([c[3] for c in caps], (T, 1)),
        cap_mat=np.array([c[4] for c in caps]),
        ell_c=np.stack([e[0] for e in ells], 1), ell_axes=np.stack([e[1] for e in ells], 1),
        ell_radii=np.stack([e[2] for e in ells], 1), ell_mat=np.array([e[3] for e in ells]))


def body_primitives(p: np.ndarray, look: Look) -> list:
    """The body's primitives for one frame of canonical joints p (22, 3), as objects for the renderer."""
    b = body_parts(np.asarray(p)[None], look)
    prims: list = [Ellipsoid(b.ell_c[0, i], b.ell_axes[0, i], b.ell_radii[0, i], int(b.ell_mat[i]))
                   for i in range(len(b.ell_mat))]
    prims += [Capsule(b.cap_a[0, i], b.cap_b[0, i], float(b.cap_ra[0, i]), int(b.cap_mat[i]), float(b.cap_rb[0, i]))
              for i in range(len(b.cap_mat))]
    return prims
