"""Exact landmarks of a motion seen by a camera: what MediaPipe would report if it made no errors."""

from __future__ import annotations

import numpy as np

from ..motion.skeleton import JOINT_INDEX as J
from ..video.landmarks import LANDMARK_INDEX
from ..video.track import PoseTrack
from .body import Look
from .body_landmarks import joints_to_landmarks
from .camera import PlacedCamera


def project_track(joints: np.ndarray, placed: PlacedCamera, fps: float) -> PoseTrack:
    """Noise-free PoseTrack of canonical joints (T, 22, 3); visibility 1, present where the body is in frame."""
    lm = joints_to_landmarks(joints)
    cam = placed.to_camera(lm)
    hips = (cam[:, LANDMARK_INDEX["left_hip"]] + cam[:, LANDMARK_INDEX["right_hip"]]) / 2
    uv = placed.project(lm)[..., :2]
    w, h = placed.size
    inside = (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
    return PoseTrack(uv.astype(np.float32), (cam - hips[:, None]).astype(np.float32),
                     np.ones(lm.shape[:2], np.float32), inside.mean(1) > 0.5, (w, h), fps)


def occluded_landmarks(joints: np.ndarray, placed: PlacedCamera, look: Look | None = None,
                       tolerance: float = 0.12) -> np.ndarray:
    """(T, 33) bool: the landmark is hidden behind another part of the rendered body.

    A landmark sits inside its own limb, so the surface in front of it is up to a limb's radius
    nearer; anything nearer than `tolerance` beyond that is another part in the way.
    """
    from .body import body_parts, random_look
    from .raytrace import first_hits

    look = look or random_look(np.random.default_rng(0))
    lm = joints_to_landmarks(joints)
    d = lm - placed.position
    dist = np.linalg.norm(d, axis=-1)
    hits = first_hits(body_parts(joints, look), placed.position, d / dist[..., None])
    return hits < dist - tolerance


def relative_yaw(joints: np.ndarray, placed: PlacedCamera) -> np.ndarray:
    """Per frame, the camera's direction seen from the body in degrees: 0 front, 90 the body's left, +-180 back."""
    p = np.asarray(joints, np.float64)
    across = p[:, J["left_hip"]] - p[:, J["right_hip"]] + p[:, J["left_shoulder"]] - p[:, J["right_shoulder"]]
    forward = np.stack([-across[:, 2], np.zeros(len(p)), across[:, 0]], -1)   # up x left... = left x up
    to_cam = placed.position - p[:, J["pelvis"]]
    ang_f = np.arctan2(forward[:, 2], forward[:, 0])
    ang_c = np.arctan2(to_cam[:, 2], to_cam[:, 0])
    # Positive when the camera is on the body's left: rotating forward towards left is -ve about +Y.
    return (np.degrees(ang_f - ang_c) + 180) % 360 - 180


def torso_pixels(joints: np.ndarray, placed: PlacedCamera) -> np.ndarray:
    """Torso length (hip centre to shoulder centre, 3D) in pixels at the pelvis depth, per frame.

    3D length, not the 2D one, so a bow towards the camera does not shrink the PCK threshold.
    """
    hips = (joints[:, J["left_hip"]] + joints[:, J["right_hip"]]) / 2
    shoulders = (joints[:, J["left_shoulder"]] + joints[:, J["right_shoulder"]]) / 2
    return _pixels_at_pelvis(np.linalg.norm(shoulders - hips, axis=-1), joints, placed)


def torso_diameter_pixels(joints: np.ndarray, placed: PlacedCamera) -> np.ndarray:
    """Torso diameter (shoulder to opposite hip, mean of both diagonals, 3D) in pixels at the pelvis depth.

    The torso size of the PCK used by FLIC/LSP and MediaPipe's own PCK@0.2; about 9 % longer than
    torso_pixels on Bandai-Namco skeletons. Reported beside it so figures compare with the literature.
    """
    diag = (np.linalg.norm(joints[:, J["left_shoulder"]] - joints[:, J["right_hip"]], axis=-1)
            + np.linalg.norm(joints[:, J["right_shoulder"]] - joints[:, J["left_hip"]], axis=-1)) / 2
    return _pixels_at_pelvis(diag, joints, placed)


def _pixels_at_pelvis(metres: np.ndarray, joints: np.ndarray, placed: PlacedCamera) -> np.ndarray:
    """Per-frame lengths (T,) in metres -> pixels at the pelvis's depth from the camera."""
    depth = placed.to_camera(joints[:, J["pelvis"]])[:, 2]
    return metres * placed.focal_px / np.maximum(depth, 1e-3)
