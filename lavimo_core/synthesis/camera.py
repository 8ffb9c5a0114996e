"""Virtual cameras around a canonical motion: random sampling, placement (static or panning) and projection."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

# Room around the joints that the rendered body needs (head top, hands, feet) when framing a clip.
_BODY_MARGIN_M = 0.15
# A panning camera follows the root smoothed over this many seconds (a person filming lags a little).
_PAN_SMOOTHING_S = 0.4
# A static camera that must back off more than this factor to hold the whole clip may pan instead.
_MAX_STATIC_BACKOFF = 1.5
# Height of a standing person with some headroom, used to turn "fills x of the frame" into a distance.
_STANDING_HEIGHT_M = 1.8


@dataclass(frozen=True)
class Camera:
    """A camera relative to a motion: angles in degrees, distance in metres, 35 mm-equivalent focal length.

    azimuth 0 looks at the character's front at frame 0 (camera on +Z), 90 at its left side, 180 at
    its back; elevation is the angle above the horizon at which it sits. It stands at `distance`
    from the centre of the clip's root trajectory. A static camera aims at that centre and backs off
    until the whole clip is in frame; a panning one (`pan`) turns to follow the body, as someone
    filming with a phone does, and backs off only until the body fits at its nearest. `seed` picks
    the look (colours, background, light), so a camera fully determines a render.
    """

    azimuth: float = 0.0
    elevation: float = 10.0
    distance: float = 3.5
    focal: float = 35.0
    roll: float = 0.0
    size: tuple[int, int] = (640, 480)
    seed: int = 0
    pan: bool = False

    def key(self) -> dict:
        """A JSON-able description, used in cache keys."""
        d = asdict(self)
        d["size"] = list(self.size)
        return d


def random_camera(rng: np.random.Generator, size: tuple[int, int] = (640, 480), fill: float | None = None) -> Camera:
    """A camera drawn from the training distribution: any azimuth, eye level to high, half of them panning.

    Distance follows from the lens and how much of the frame height a standing person fills
    (45-90 %, as in reference footage, unless `fill` says), so near and far cameras both show a usable body.
    """
    w, h = size
    focal = float(rng.uniform(24.0, 60.0))
    drawn = float(rng.uniform(0.45, 0.9))     # drawn even when `fill` is given: the same seed, the same camera
    fill = drawn if fill is None else float(fill)
    distance = (focal / 36.0 * max(w, h)) * _STANDING_HEIGHT_M / (fill * h)
    return Camera(
        azimuth=float(rng.uniform(-180.0, 180.0)),
        elevation=float(rng.uniform(0.0, 35.0)),
        distance=float(distance),
        focal=focal,
        roll=float(rng.normal(0.0, 2.0)),
        size=(int(w), int(h)),
        seed=int(rng.integers(0, 2**31 - 1)),
        pan=bool(rng.random() < 0.5),
    )


@dataclass(frozen=True)
class PlacedCamera:
    """A camera fixed in the world. `rotation` maps world to camera axes (rows: x right, y down, z forward);
    (3, 3) for a static camera, (T, 3, 3) with one per frame for a panning one."""

    position: np.ndarray      # (3,) world
    rotation: np.ndarray      # (3, 3) or (T, 3, 3)
    focal_px: float
    size: tuple[int, int]     # (W, H)
    distance: float           # distance from the trajectory centre, after framing
    aim: np.ndarray | None = None   # (T, 3) points a panning camera looks at, one per frame
    roll: float = 0.0

    def retimed(self, fps_in: float, fps_out: float) -> PlacedCamera:
        """The same camera for the clip resampled from fps_in to fps_out (a panning camera's aim is interpolated)."""
        if not self.panning or abs(fps_in - fps_out) < 1e-9:
            return self
        t_out = np.arange(0, (len(self.aim) - 1) / fps_in + 1e-9, 1.0 / fps_out)
        t_in = np.arange(len(self.aim)) / fps_in
        aim = np.stack([np.interp(t_out, t_in, self.aim[:, k]) for k in range(3)], -1)
        return replace(self, rotation=look_at(self.position, aim, self.roll), aim=aim)

    @property
    def center(self) -> tuple[float, float]:
        """Principal point in pixels."""
        return self.size[0] / 2.0, self.size[1] / 2.0

    @property
    def panning(self) -> bool:
        """True when the rotation changes per frame."""
        return self.rotation.ndim == 3

    def frame(self, i: int) -> PlacedCamera:
        """The static camera of frame i."""
        return replace(self, rotation=self.rotation[i]) if self.panning else self

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points -> camera coordinates. For a panning camera points are (T, ..., 3), one row per frame."""
        p = np.asarray(points, np.float64) - self.position
        if not self.panning:
            return p @ self.rotation.T
        flat = p.reshape(len(p), -1, 3)
        return np.einsum("tij,tnj->tni", self.rotation, flat).reshape(p.shape)

    def project(self, points: np.ndarray) -> np.ndarray:
        """World points -> (..., 3) [u, v, depth] in pixels (same frame rules as to_camera)."""
        c = self.to_camera(points)
        z = np.maximum(c[..., 2], 1e-6)
        cx, cy = self.center
        return np.stack([self.focal_px * c[..., 0] / z + cx, self.focal_px * c[..., 1] / z + cy, c[..., 2]], -1)

    def camera_rays(self) -> np.ndarray:
        """Unit ray direction through each pixel centre in camera axes, (H, W, 3)."""
        w, h = self.size
        cx, cy = self.center
        u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        d = np.stack([(u - cx) / self.focal_px, (v - cy) / self.focal_px, np.ones_like(u)], -1)
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    def ray_directions(self) -> np.ndarray:
        """Unit world-space ray direction through each pixel centre, (H, W, 3) (static cameras)."""
        return self.camera_rays() @ self.rotation


def look_at(position: np.ndarray, target: np.ndarray, roll_deg: float) -> np.ndarray:
    """World -> camera rotation(s) (..., 3, 3) aiming from `position` at target(s) (..., 3)."""
    forward = np.asarray(target, np.float64) - position
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-9)
    down = np.cross(forward, right)
    r = np.radians(roll_deg)
    right, down = np.cos(r) * right + np.sin(r) * down, -np.sin(r) * right + np.cos(r) * down
    return np.stack([right, down, forward], -2)


def _body_points(joints: np.ndarray) -> np.ndarray:
    """(T, 22*8, 3): every joint padded by the body's volume in each diagonal direction."""
    pad = np.array([[dx, dy, dz] for dx in (-1, 1) for dy in (-1, 1) for dz in (-1, 1)]) * _BODY_MARGIN_M
    return (joints[:, :, None] + pad).reshape(len(joints), -1, 3)


def _fits(placed: PlacedCamera, pts: np.ndarray, margin: float) -> bool:
    uvz = placed.project(pts)
    w, h = placed.size
    return bool((uvz[..., 2] > 0.3).all() and (uvz[..., 0] > margin).all() and (uvz[..., 0] < w - margin).all()
                and (uvz[..., 1] > margin).all() and (uvz[..., 1] < h - margin).all())


def place_camera(camera: Camera, joints: np.ndarray, fps: float = 20.0) -> PlacedCamera:
    """Fix `camera` in the world for a clip of canonical joints (T, 22, 3) at `fps`."""
    joints = np.asarray(joints, np.float64)
    root = joints[:, 0]
    lo, hi = root.min(0), root.max(0)
    centre = np.array([(lo[0] + hi[0]) / 2, float(np.median(root[:, 1])), (lo[2] + hi[2]) / 2])
    az, el = np.radians(camera.azimuth), np.radians(camera.elevation)
    direction = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    w, h = camera.size
    focal_px = camera.focal / 36.0 * max(w, h)
    step = max(1, len(joints) // 40)       # framing is checked on a sparse set of frames
    pts = _body_points(joints[::step])
    margin = 0.03 * min(w, h)
    if camera.pan:
        return _frame_panning(camera, root, centre, direction, focal_px, pts, margin, step, fps)
    static = _frame_static(camera, centre, direction, focal_px, pts, margin)
    if static.distance <= _MAX_STATIC_BACKOFF * camera.distance:
        return static
    # Holding the whole clip would put the camera far back: if following the body lets it stay
    # closer (a long walk), film it panning, as a person would.
    panning = _frame_panning(camera, root, centre, direction, focal_px, pts, margin, step, fps)
    return panning if panning.distance < 0.9 * static.distance else static


def _frame_static(camera, centre, direction, focal_px, pts, margin) -> PlacedCamera:
    distance = camera.distance
    for _ in range(80):
        position = centre + distance * direction
        placed = PlacedCamera(position, look_at(position, centre, camera.roll), focal_px, tuple(camera.size),
                              distance, roll=camera.roll)
        if _fits(placed, pts, margin):
            break
        distance *= 1.06
    return placed


def _frame_panning(camera, root, centre, direction, focal_px, pts, margin, step, fps) -> PlacedCamera:
    from scipy.ndimage import gaussian_filter1d

    aim = gaussian_filter1d(root, sigma=_PAN_SMOOTHING_S * fps, axis=0, mode="nearest")
    aim[:, 1] = centre[1]
    # Never closer than the farthest the body goes towards the camera, plus a step back.
    reach = float(((root - centre) @ direction).max(initial=0.0))
    distance = max(camera.distance, reach + 1.5)
    for _ in range(80):
        position = centre + distance * direction
        rot = look_at(position, aim, camera.roll)
        placed = PlacedCamera(position, rot, focal_px, tuple(camera.size), distance, aim, camera.roll)
        if _fits(replace(placed, rotation=rot[::step]), pts, margin):
            break
        distance *= 1.06
    return placed
