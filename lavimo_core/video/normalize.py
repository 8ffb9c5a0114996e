"""Pose track -> camera-invariant per-frame features for the video encoder.

Per frame (all in the body frame fixed at the clip's start, lengths in torso units):
  - 33 world landmarks, hip-centred                                  (99)
  - root translation since the first detected frame                 (3)
  - the 33 landmark visibilities                                    (33)

Camera invariance. MediaPipe's world landmarks are in camera axes, so the same motion seen from
another azimuth or elevation is the same pose under a rotation. We undo it with a frame defined by
the body itself, as HumanML3D does for motions ("face +Z at frame 0"): up = the clip's mean
ankles->hips direction (legs are the part of the body that stays near vertical; the torso bends in
a bow), left = the hips+shoulders across-vector of the first detected frames (averaged over 0.5 s),
forward = left x up. One rotation for the whole clip, not one per frame, so turning stays visible.
Because the frame comes from the body, exact landmarks give the same features from every camera.

Translation. Walk, walk-back and walk-left differ mostly by where the body goes, which hip-centred
landmarks erase. The image still shows it: the hips' pixel position and the body's size in pixels
(a weak-perspective scale fitted between image and world landmarks) give the root's position in
camera space up to the focal length, which we take as a nominal 60 degree field of view. Rotated
into the same body frame, "moves forward" reads the same from the front (it grows) and the side
(it slides), up to the depth scale when the real focal length differs.
"""

from __future__ import annotations

import numpy as np

from ..vectors import unit
from .landmarks import LANDMARK_INDEX as L
from .landmarks import NUM_LANDMARKS
from .track import PoseTrack

NORMALIZATION_VERSION = "norm2"
POSE_FEATURE_DIM = NUM_LANDMARKS * 3 + 3 + NUM_LANDMARKS
NOMINAL_FOV_DEG = 60.0
HEADING_WINDOW_S = 0.5            # frames averaged for the initial heading
MAX_LEG_TILT_DEG = 50.0           # beyond this the legs are not a usable "up" (e.g. lying): use the camera's

_BODY = slice(11, 33)             # landmarks used for the image scale (the face is small and noisy)


def _mid(x: np.ndarray, a: str, b: str) -> np.ndarray:
    return (x[..., L[a], :] + x[..., L[b], :]) / 2


def torso_length(world: np.ndarray) -> float:
    """Median hip-centre to shoulder-centre distance (metres) over frames (T, 33, 3)."""
    d = np.linalg.norm(_mid(world, "left_shoulder", "right_shoulder") - _mid(world, "left_hip", "right_hip"), axis=-1)
    return float(max(np.median(d), 0.05)) if len(d) else 1.0


def body_rotation(world: np.ndarray, fps: float) -> np.ndarray:
    """Rotation (3, 3) whose rows are the clip's (left, up, forward) axes in camera coordinates."""
    camera_up = np.array([0.0, -1.0, 0.0])
    legs = unit(_mid(world, "left_hip", "right_hip") - _mid(world, "left_ankle", "right_ankle"))
    up = unit(legs.mean(0))
    if np.degrees(np.arccos(np.clip(up @ camera_up, -1, 1))) > MAX_LEG_TILT_DEG:
        up = camera_up
    n = max(1, int(round(HEADING_WINDOW_S * fps)))
    first = world[:n]
    across = ((first[:, L["left_hip"]] - first[:, L["right_hip"]])
              + (first[:, L["left_shoulder"]] - first[:, L["right_shoulder"]])).mean(0)
    left = across - (across @ up) * up
    if np.linalg.norm(left) < 1e-6:   # across-vector along "up": any heading will do
        left = np.array([1.0, 0.0, 0.0]) - up[0] * up
    left = unit(left)
    return np.stack([left, up, np.cross(left, up)])


def _focal(size: tuple[int, int]) -> float:
    return max(size) / (2 * np.tan(np.radians(NOMINAL_FOV_DEG) / 2))


def image_scale(track: PoseTrack) -> np.ndarray:
    """Pixels per metre at the person's hips, per frame (T,).

    Least squares between image offsets and world offsets around the hips, with the first-order
    perspective term: a landmark nearer the camera than the hips lands further out from the image
    centre (du = s (dX - u dZ), u the hips' normalised image position). Plain weak perspective
    is off by up to 8 % for a body at the side of a wide frame.
    """
    w = track.visibility[:, _BODY] + 1e-3
    f = _focal(track.size)
    centre = np.array(track.size, np.float64) / 2
    hip = _mid(track.image.astype(np.float64), "left_hip", "right_hip")
    hip_n = (hip - centre) / f                                        # (T, 2) normalised image position
    img = track.image[:, _BODY].astype(np.float64)
    world = track.world[:, _BODY].astype(np.float64)
    a = world[..., :2] - hip_n[:, None, :] * world[..., 2:3]          # what the image offsets are proportional to
    img_c = img - (w[..., None] * img).sum(1, keepdims=True) / w.sum(1)[:, None, None]
    a_c = a - (w[..., None] * a).sum(1, keepdims=True) / w.sum(1)[:, None, None]
    num = (w * (img_c * a_c).sum(-1)).sum(1)
    den = (w * (a_c ** 2).sum(-1)).sum(1)
    return np.maximum(num / np.maximum(den, 1e-9), 1e-3)


def root_positions(track: PoseTrack) -> np.ndarray:
    """Camera-space hip-centre positions (T, 3) in metres, with the nominal focal length."""
    w, h = track.size
    s = image_scale(track)
    hip = _mid(track.image.astype(np.float64), "left_hip", "right_hip")
    return np.stack([(hip[:, 0] - w / 2) / s, (hip[:, 1] - h / 2) / s, _focal(track.size) / s], -1)


def track_to_features(track: PoseTrack) -> np.ndarray:
    """Features (T, POSE_FEATURE_DIM) float32; rows of frames without a person are zero."""
    out = np.zeros((len(track), POSE_FEATURE_DIM), np.float32)
    idx = np.flatnonzero(track.present)
    if len(idx) == 0:
        return out
    world = track.world[idx].astype(np.float64)
    world = world - _mid(world, "left_hip", "right_hip")[:, None]
    rot = body_rotation(world, track.fps)
    scale = torso_length(world)
    pose = (world @ rot.T) / scale
    sub = PoseTrack(track.image[idx], track.world[idx], track.visibility[idx], track.present[idx], track.size, track.fps)
    root = root_positions(sub)
    moved = ((root - root[0]) @ rot.T) / scale
    out[idx, : NUM_LANDMARKS * 3] = np.clip(pose, -5, 5).reshape(len(idx), -1)
    out[idx, NUM_LANDMARKS * 3: NUM_LANDMARKS * 3 + 3] = np.clip(moved, -30, 30)
    out[idx, NUM_LANDMARKS * 3 + 3:] = track.visibility[idx]
    return out
