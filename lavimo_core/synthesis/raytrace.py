"""Ray casting of capsules and ellipsoids with a depth buffer, Lambert shading, a face texture and a room.

Hand-written in numpy because the scene is ~30 analytic primitives: exact ray intersections over each
primitive's screen box give correct depth order and smooth normals at ~10 ms a frame, with no GL
context (none exists on headless CI or inside Blender's Python).
"""

from __future__ import annotations

import numpy as np

from .body import CHEST, HAIR, HEAD, SKIN, BodyParts, Capsule, Ellipsoid, Look
from .camera import PlacedCamera

_ROOM_HALF = 7.0     # metres from the clip centre to each wall
_ROOM_HEIGHT = 3.2


def _box(placed: PlacedCamera, centre: np.ndarray, radius: float) -> tuple[int, int, int, int] | None:
    """Pixel box (x0, x1, y0, y1) that holds the projection of a sphere, or None when it is off-screen."""
    corners = centre + radius * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
    c = placed.to_camera(corners)
    w, h = placed.size
    if (c[:, 2] <= 0.05).any():
        return (0, w, 0, h) if (c[:, 2] > 0).any() else None
    uv = placed.project(corners)
    x0, y0 = np.floor(uv[:, :2].min(0)).astype(int)
    x1, y1 = np.ceil(uv[:, :2].max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    return (x0, x1, y0, y1) if x0 < x1 and y0 < y1 else None


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x * y).sum(-1)


def capsule_distance(ro: np.ndarray, rd: np.ndarray, a: np.ndarray, b: np.ndarray, ra, rb
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distance along rays rd (..., 3) from ro to a capsule a-b with radii ra at a and rb at b (inf on a miss).

    Everything broadcasts. A capsule may taper (ra != rb): Quilez's rounded-cone intersection. Also
    returns what the normal needs: whether the side was hit, the position along the axis, and
    whether the b-end sphere was hit.
    """
    ra, rb = np.asarray(ra, np.float64), np.asarray(rb, np.float64)
    ba, oa, ob = b - a, ro - a, ro - b
    rr = ra - rb
    m0, m1, m5, m7 = _dot(ba, ba), _dot(ba, oa), _dot(oa, oa), _dot(ob, ob)
    m2, m3, m6 = _dot(rd, ba), _dot(rd, oa), _dot(rd, ob)
    d2 = m0 - rr * rr
    k2 = d2 - m2 * m2
    k1 = d2 * m3 - m1 * m2 + m2 * rr * ra
    k0 = d2 * m5 - m1 * m1 + m1 * rr * ra * 2.0 - m0 * ra * ra
    h = k1 * k1 - k0 * k2
    with np.errstate(invalid="ignore", divide="ignore"):
        t_body = (-np.sqrt(h) - k1) / k2
        y = m1 - ra * rr + t_body * m2
        on_body = (h >= 0) & (y > 0) & (y < d2)
        h1 = m3 * m3 - m5 + ra * ra
        h2 = m6 * m6 - m7 + rb * rb
        t1 = np.where(h1 > 0, -m3 - np.sqrt(h1), np.inf)
        t2 = np.where(h2 > 0, -m6 - np.sqrt(h2), np.inf)
    use_b = t2 < t1
    t = np.where(on_body, t_body, np.where(h >= 0, np.where(use_b, t2, t1), np.inf))
    return np.where(t > 0, t, np.inf), on_body, np.where(on_body, y * 1.0, 0.0) / np.maximum(d2, 1e-12), use_b


def ellipsoid_distance(ro: np.ndarray, rd: np.ndarray, c: np.ndarray, axes: np.ndarray, radii: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Distance along rays rd (..., 3) from ro to an ellipsoid (inf on a miss), and the hit on the unit
    sphere in its local axes. axes (..., 3, 3) has the local axes as rows; everything broadcasts."""
    o = np.einsum("...ij,...j->...i", axes, ro - c) / radii
    d = np.einsum("...ij,...j->...i", axes, rd) / radii
    qa, qb, qc = _dot(d, d), _dot(d, o), _dot(o, o) - 1.0
    h = qb * qb - qa * qc
    with np.errstate(invalid="ignore"):
        t = (-qb - np.sqrt(h)) / qa
    t = np.where((h >= 0) & (t > 0), t, np.inf)
    return t, o + np.where(np.isfinite(t), t, 0)[..., None] * d


def _hit_capsule(ro: np.ndarray, rd: np.ndarray, cap: Capsule) -> tuple[np.ndarray, np.ndarray]:
    """Distance along each ray (inf on a miss) and the world normal, for rays rd (N, 3) from ro."""
    rb = cap.radius if cap.radius_b is None else cap.radius_b
    t, on_body, y, use_b = capsule_distance(ro, rd, cap.a, cap.b, cap.radius, rb)
    ba, oa, ob = cap.b - cap.a, ro - cap.a, ro - cap.b
    tt = np.where(np.isfinite(t), t, 0)[:, None]
    d2 = ba @ ba - (cap.radius - rb) ** 2
    n_body = d2 * (oa + tt * rd) - ba * (y * d2)[:, None]
    n_cap = np.where(use_b[:, None], (ob + tt * rd) / rb, (oa + tt * rd) / cap.radius)
    n = np.where(on_body[:, None], n_body, n_cap)
    return t, n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _hit_ellipsoid(ro: np.ndarray, rd: np.ndarray, ell: Ellipsoid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance (inf on a miss), world normal and the hit point on the unit sphere in local axes."""
    t, q = ellipsoid_distance(ro, rd, ell.center, ell.axes, ell.radii)
    n = (q / ell.radii) @ ell.axes
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    return t, n, q


def _capsule_mask(placed: PlacedCamera, cap: Capsule, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """Pixels of `box` (bool (h, w)) near the capsule's projected axis: a conservative cover of its image.

    Each sphere along the capsule projects within f r / (z - r) (1 + tan^2 of its angle off the
    optical axis) of its projected centre, and the centres project onto the projected segment.
    None when an end is too close to the camera to bound (then the whole box is traced).
    """
    ends = np.stack([cap.a, cap.b])
    c = placed.to_camera(ends)
    radius = cap.max_radius
    if (c[:, 2] - radius <= 0.05).any():
        return None
    off = (c[:, 0] ** 2 + c[:, 1] ** 2) / c[:, 2] ** 2
    r_px = float((placed.focal_px * radius / (c[:, 2] - radius) * (1 + off)).max()) + 1.5
    pa, pb = placed.project(ends)[:, :2]
    x0, x1, y0, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    ab = pb - pa
    s = np.clip(((xs - pa[0]) * ab[0] + (ys - pa[1]) * ab[1]) / max(float(ab @ ab), 1e-9), 0, 1)
    return (xs - pa[0] - s * ab[0]) ** 2 + (ys - pa[1] - s * ab[1]) ** 2 <= r_px * r_px


def _capsule_box(placed: PlacedCamera, cap: Capsule) -> tuple[int, int, int, int] | None:
    """The union of the end spheres' boxes (a capsule is their convex hull)."""
    boxes = [b for b in (_box(placed, cap.a, cap.max_radius), _box(placed, cap.b, cap.max_radius)) if b is not None]
    if not boxes:
        return None
    return min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes)


def trace_body(prims: list, placed: PlacedCamera, dirs: np.ndarray) -> tuple | None:
    """Trace the body primitives: the pixel region (x0, x1, y0, y1) they cover, and within it per pixel the
    depth (inf where no body), normal, material and local head coordinates. None when nothing is on screen."""
    boxes = []
    for prim in prims:
        is_capsule = isinstance(prim, Capsule)
        box = _capsule_box(placed, prim) if is_capsule else _box(placed, prim.center, float(prim.radii.max()))
        if box is not None:
            boxes.append((prim, is_capsule, box))
    if not boxes:
        return None
    # Buffers cover only the body's region: most of the frame is background.
    rx0, rx1 = min(b[2][0] for b in boxes), max(b[2][1] for b in boxes)
    ry0, ry1 = min(b[2][2] for b in boxes), max(b[2][3] for b in boxes)
    shape = (ry1 - ry0, rx1 - rx0)
    depth = np.full(shape, np.inf)
    normal = np.zeros(shape + (3,))
    material = np.zeros(shape, np.int8)
    local = np.zeros(shape + (3,))
    ro = placed.position
    for prim, is_capsule, box in boxes:
        x0, x1, y0, y1 = box
        mask = _capsule_mask(placed, prim, box) if is_capsule else None
        if mask is None:
            mask = np.ones((y1 - y0, x1 - x0), bool)
        rd = dirs[y0:y1, x0:x1][mask]
        if is_capsule:
            t_m, n_m = _hit_capsule(ro, rd, prim)
        else:
            t_m, n_m, q_m = _hit_ellipsoid(ro, rd, prim)
        sub = np.s_[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]
        win_m = t_m < depth[sub][mask]
        if not win_m.any():
            continue
        win = np.zeros_like(mask)
        win[mask] = win_m
        depth[sub][win] = t_m[win_m]
        normal[sub][win] = n_m[win_m]
        material[sub][win] = prim.material
        if not is_capsule:
            local[sub][win] = q_m[win_m]
    return (rx0, rx1, ry0, ry1), depth, normal, material, local


def first_hits(parts: BodyParts, ro: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Distance to the nearest body surface along rays dirs (T, N, 3) from ro (3,), per frame (inf on a miss)."""
    rd = dirs[:, :, None, :]                                   # (T, N, 1, 3) against primitives (T, 1, P, ...)
    t_cap = capsule_distance(ro, rd, parts.cap_a[:, None], parts.cap_b[:, None], parts.cap_ra[:, None],
                             parts.cap_rb[:, None])[0]
    t_ell = ellipsoid_distance(ro, rd, parts.ell_c[:, None], parts.ell_axes[:, None], parts.ell_radii[:, None])[0]
    return np.minimum(t_cap.min(-1), t_ell.min(-1))


def _ellipse(lon, lat, lon0, lat0, rlon, rlat):
    return ((lon - lon0) / rlon) ** 2 + ((lat - lat0) / rlat) ** 2 < 1


def face_albedo(q: np.ndarray, skin: np.ndarray, hair: np.ndarray) -> np.ndarray:
    """Albedo of head points q (N, 3) on the unit sphere (x left, y up, z forward): hair, eyes, brows, mouth."""
    x, y, z = q[:, 0], np.clip(q[:, 1], -1, 1), q[:, 2]
    lon, lat = np.arctan2(x, z), np.arcsin(y)
    out = np.repeat(skin[None], len(q), 0)
    hair_mask = y > 0.45 - 0.6 * np.clip(0.35 - z, 0, 1.4)
    out[hair_mask] = hair
    for side in (1, -1):
        white = _ellipse(lon, lat, side * 0.36, 0.08, 0.17, 0.075)
        out[white] = (0.92, 0.9, 0.88)
        out[_ellipse(lon, lat, side * 0.36, 0.08, 0.075, 0.075)] = (0.12, 0.08, 0.06)
        # Brows darker than skin and hair alike: with hair the colour of skin they still mark the face
        # (brows of hair colour vanished there and MediaPipe took front views for back views).
        out[_ellipse(lon, lat, side * 0.37, 0.24, 0.18, 0.035)] = np.minimum(hair, skin) * 0.5
    out[_ellipse(lon, lat, 0.0, -0.45, 0.2, 0.045)] = skin * np.array([0.75, 0.45, 0.45])
    return out


def chest_albedo(q: np.ndarray, shirt: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """Albedo of chest points q (N, 3) on the unit sphere (x left, y up, z forward): the shirt, with a
    neckline showing skin at the front only (a front/back cue on the body itself, not only the face)."""
    x, y, z = q[:, 0], q[:, 1], q[:, 2]
    out = np.repeat(shirt[None], len(q), 0)
    out[(z > 0.2) & (y > 0.4 + 1.5 * x ** 2)] = skin
    return out


def shade(normal: np.ndarray, albedo: np.ndarray, rd: np.ndarray, look: Look) -> np.ndarray:
    """Lambert + hemisphere ambient + a soft highlight, darkened towards the outline, for N points."""
    light = np.asarray(look.light)
    ndl = np.clip(normal @ light, 0, None)
    amb = look.ambient * (0.7 + 0.3 * normal[:, 1])
    refl = light - 2 * (normal @ light)[:, None] * normal
    spec = np.clip(np.einsum("ij,ij->i", refl, rd), 0, None) ** 20 * 0.15
    # Surfaces seen edge-on get less light (ambient occlusion, as on a real body), so a limb in
    # front of a same-coloured torso keeps a visible outline; MediaPipe's arm landmarks gained from it.
    rim = 1 - 0.6 * (1 - np.abs(np.einsum("ij,ij->i", normal, rd))) ** 2
    return albedo * ((amb + (1 - look.ambient) * ndl) * rim)[:, None] + spec[:, None]


def room(placed: PlacedCamera, dirs: np.ndarray, look: Look, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Background image (H, W, 3) float of a box room around `centre`, and each pixel's floor point (NaN elsewhere)."""
    ro = placed.position
    lo = np.array([centre[0] - _ROOM_HALF, 0.0, centre[2] - _ROOM_HALF])
    hi = np.array([centre[0] + _ROOM_HALF, _ROOM_HEIGHT, centre[2] + _ROOM_HALF])
    lo, hi = np.minimum(lo, ro - 0.5), np.maximum(hi, ro + 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_axes = np.where(dirs > 0, (hi - ro) / dirs, (lo - ro) / dirs)
    t_axes = np.where(np.isfinite(t_axes) & (t_axes > 0), t_axes, np.inf)
    axis = t_axes.argmin(-1)
    t = t_axes.min(-1)
    p = ro + t[..., None] * dirs
    normal = np.zeros_like(dirs)
    np.put_along_axis(normal, axis[..., None], -np.sign(np.take_along_axis(dirs, axis[..., None], -1)), -1)
    floor = (axis == 1) & (dirs[..., 1] < 0)
    ceiling = (axis == 1) & ~floor
    albedo = np.empty_like(dirs)
    albedo[:] = look.wall
    # Panels on the walls (doors, pictures, windows) so the background is not a flat colour.
    rng = np.random.default_rng(look.wall_detail)
    along = np.where(axis == 0, p[..., 2], p[..., 0])
    for _ in range(int(rng.integers(2, 7))):
        s0, width = rng.uniform(-_ROOM_HALF, _ROOM_HALF), rng.uniform(0.4, 1.6)
        y0, height = rng.uniform(0.0, 1.6), rng.uniform(0.4, 1.8)
        panel = (axis != 1) & (np.abs(along - s0) < width / 2) & (p[..., 1] > y0) & (p[..., 1] < y0 + height)
        albedo[panel] = rng.uniform(0.05, 0.95, 3)
    albedo[(axis != 1) & (p[..., 1] < 0.1)] = np.asarray(look.wall) * 0.6  # skirting board
    floor_col = np.asarray(look.floor)
    if look.floor_tile > 0:
        chk = (np.floor(p[..., 0] / look.floor_tile) + np.floor(p[..., 2] / look.floor_tile)) % 2
        albedo[floor] = (floor_col * (0.8 + 0.2 * chk[..., None]))[floor]
    else:
        albedo[floor] = floor_col
    albedo[ceiling] = 0.9
    light = np.asarray(look.light)
    lit = look.ambient + (1 - look.ambient) * np.clip(normal @ light, 0, None) * 0.8 + 0.1
    image = albedo * lit[..., None]
    floor_points = np.where(floor[..., None], p, np.nan)
    return image, floor_points


def floor_hits(ro: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """World point where each ray meets the floor plane y=0 (NaN for rays that go up)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dirs[..., 1] < -1e-6, -ro[1] / dirs[..., 1], np.nan)
    return ro + t[..., None] * dirs


def environment(placed: PlacedCamera, look: Look, centre: np.ndarray, width: int = 1024) -> np.ndarray:
    """The room as seen from the camera's position in every direction: an equirectangular image (width/2, width, 3)."""
    lon = (np.arange(width) + 0.5) / width * 2 * np.pi - np.pi
    lat = np.pi / 2 - (np.arange(width // 2) + 0.5) / (width // 2) * np.pi
    lon, lat = np.meshgrid(lon, lat)
    dirs = np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)], -1)
    return room(placed, dirs, look, centre)[0].astype(np.float32)


def sample_environment(env: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Look up an equirectangular image along directions (H, W, 3)."""
    import cv2

    he, we = env.shape[:2]
    lon = np.arctan2(dirs[..., 0], dirs[..., 2])
    lat = np.arcsin(np.clip(dirs[..., 1], -1, 1))
    mx = ((lon + np.pi) / (2 * np.pi) * we - 0.5).astype(np.float32)
    my = ((np.pi / 2 - lat) / np.pi * he - 0.5).astype(np.float32)
    return cv2.remap(env, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP).astype(np.float64)


SHADOW_STEP = 4  # shadows are evaluated on every 4th pixel and upsampled (they are soft)


def shadow(floor_coarse: np.ndarray, size: tuple[int, int], joints: np.ndarray, look: Look) -> np.ndarray:
    """Soft blob shadow factor (H, W) on the floor cast by the body (1 = unshadowed).

    floor_coarse: floor points of every SHADOW_STEP-th pixel (NaN off the floor), the costliest
    per-pixel pass otherwise.
    """
    import cv2

    w, h = size
    light = np.asarray(look.light)
    centres = joints[:, [0, 2]] - joints[:, 1:2] * light[[0, 2]] / max(light[1], 0.2)
    sigma = 0.09 + 0.05 * joints[:, 1]
    factor = np.ones(floor_coarse.shape[:2], np.float32)
    lo, hi = centres.min(0) - 0.8, centres.max(0) + 0.8
    fx, fz = floor_coarse[..., 0], floor_coarse[..., 2]
    with np.errstate(invalid="ignore"):
        near = (fx > lo[0]) & (fx < hi[0]) & (fz > lo[1]) & (fz < hi[1])
    if not near.any():
        return np.ones((h, w), np.float32)
    pts = np.stack([fx[near], fz[near]], -1)
    d2 = ((pts[:, None] - centres[None]) ** 2).sum(-1)
    occ = 1 - np.prod(1 - 0.35 * np.exp(-d2 / sigma[None] ** 2), axis=1)
    factor[near] = 1 - 0.6 * occ
    return cv2.resize(factor, (w, h), interpolation=cv2.INTER_LINEAR)


def coarse(image: np.ndarray) -> np.ndarray:
    """Every SHADOW_STEP-th pixel of an (H, W, ...) array, centred in its cell."""
    return image[SHADOW_STEP // 2::SHADOW_STEP, SHADOW_STEP // 2::SHADOW_STEP]


def render_frame(prims: list, joints: np.ndarray, placed: PlacedCamera, dirs: np.ndarray,
                 background: np.ndarray, floor_coarse: np.ndarray, look: Look) -> np.ndarray:
    """One RGB frame (H, W, 3) float in 0..1; floor_coarse: `coarse` of the pixels' floor points."""
    image = background * shadow(floor_coarse, placed.size, joints, look)[..., None]
    traced = trace_body(prims, placed, dirs)
    if traced is not None:
        (x0, x1, y0, y1), depth, normal, material, local = traced
        body = np.isfinite(depth)
        if body.any():
            mats = material[body]
            albedo = np.zeros((len(mats), 3), np.float32)
            for m in np.unique(mats):
                albedo[mats == m] = look.colour(int(m))
            head = mats == HEAD
            if head.any():
                albedo[head] = face_albedo(local[body][head], look.colour(HEAD), look.colour(HAIR))
            chest = mats == CHEST
            if chest.any():
                albedo[chest] = chest_albedo(local[body][chest], look.colour(CHEST), look.colour(SKIN))
            image[y0:y1, x0:x1][body] = shade(normal[body], albedo, dirs[y0:y1, x0:x1][body], look)
    return np.clip(image, 0, 1)
