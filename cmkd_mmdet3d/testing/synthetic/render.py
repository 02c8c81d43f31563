"""Render the image of one camera of the rig (KITTI's left colour camera by
default) of a scene (painter's algorithm).

The ground is shaded per pixel (asphalt noise, lane markings, kerbs, grass,
haze) by intersecting each pixel ray with the ground plane; parts are drawn
far to near as shaded, flat-coloured convex polygons. An instance-id buffer
drawn in the same order gives per-object visibility for the labels.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from ...structures.geometry import project_points
from .geometry import Calibration
from .rig import KITTI_CAM2, CameraSpec
from .scene import Scene

NEAR = 0.3  # metres, near clipping plane
# the six faces as corner indices into _part_corners' order
_FACES = ((0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (2, 3, 7, 6), (0, 3, 7, 4),
          (1, 2, 6, 5))


def _part_corners(part) -> np.ndarray:
    l, h, w = part.dims / 2
    x = np.array([l, l, -l, -l, l, l, -l, -l])
    y = np.array([h, h, h, h, -h, -h, -h, -h])
    z = np.array([w, -w, -w, w, w, -w, -w, w])
    c, s = np.cos(part.ry), np.sin(part.ry)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.stack([x, y, z], 1) @ rot.T + part.center


def _camera_depth(points: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """Depth along the optical axis of (K, 3) world points for a (3, 4)
    projection ``K [R | t]`` (K's last row (0, 0, 1)), metres."""
    row = proj[2]
    return points @ row[:3] / np.linalg.norm(row[:3]) + row[3]


def _clip_near(poly: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """Clip a 3D polygon (world frame) against the camera's near plane
    (depth >= NEAR); the depth is linear in the points."""
    depth = _camera_depth(poly, proj)
    out = []
    for i in range(len(poly)):
        j = (i + 1) % len(poly)
        cur, nxt = poly[i], poly[j]
        cin, nin = depth[i] >= NEAR, depth[j] >= NEAR
        if cin:
            out.append(cur)
        if cin != nin:
            t = (NEAR - depth[i]) / (depth[j] - depth[i])
            out.append(cur + t * (nxt - cur))
    return np.array(out)


def _project_uv(poly: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """(K, 3) camera points -> (K, 2) pixels with a 3x4 projection."""
    return project_points(poly, p2)[0]


def _hash_noise(ix: np.ndarray, iz: np.ndarray, seed: int) -> np.ndarray:
    """Deterministic per-cell noise in [0, 1) from integer coordinates."""
    h = (ix.astype(np.int64) * 73856093) ^ (iz.astype(np.int64) * 19349663) \
        ^ (seed * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    return ((h ^ (h >> 16)) & 0xFFFF) / 65536.0


def _ground_and_sky(scene: Scene, calib: Calibration, h: int, w: int,
                    seed: int, camera: CameraSpec) -> np.ndarray:
    # (K R)^-1 (u, v, 1): the pixel rays in the world frame, for cameras of
    # any yaw (K alone for KITTI's P2, whose rotation is the identity)
    kr = calib.projection(camera.projection)[:, :3]
    c2 = calib.camera_center(camera.projection)
    u, v = np.meshgrid(np.arange(w) + 0.0, np.arange(h) + 0.0)
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(kr).T
    sx, sz = scene.ground_slope
    g_n = np.array([-sx, 1.0, -sz])
    denom = rays @ g_n
    with np.errstate(divide='ignore', invalid='ignore'):
        t = (scene.ground_y(0, 0) - c2 @ g_n) / denom
    ground = (denom > 1e-6) & (t > 0)
    t = np.where(ground, t, 0)
    gx = c2[0] + t * rays[..., 0]
    gz = c2[2] + t * rays[..., 2]
    dist = np.hypot(gx, gz)

    # sky: vertical gradient
    frac = np.clip(v / max(1, h * 0.45), 0, 1)[..., None]
    img = scene.sky_top * (1 - frac) + scene.sky_horizon * frac

    ax = np.abs(gx)
    noise = _hash_noise(np.floor(gx / 0.2), np.floor(gz / 0.2), seed)
    coarse = _hash_noise(np.floor(gx / 2.0), np.floor(gz / 2.0), seed + 1)
    base = scene.road_tone + 0.06 * (noise - 0.5) + 0.05 * (coarse - 0.5)
    col = np.repeat(base[..., None], 3, -1)
    side = ax > 5.5
    walk = side & (ax < 8.0)
    grass = ax >= 8.0
    col[walk] = (np.array([0.55, 0.53, 0.5]) * (0.9 + 0.2 * noise[walk, None]))
    col[grass] = (
        np.array([0.25, 0.42, 0.18]) * (0.7 + 0.5 * noise[grass, None]))
    # lane markings: dashed at x = +-1.75, solid road edges at +-5.4
    dashed = (np.abs(ax - 1.75) < 0.07) & (np.mod(gz, 6.0) < 3.0)
    edge = np.abs(ax - 5.4) < 0.08
    col[dashed | edge] = 0.85
    shade = scene.ambient + (1 - scene.ambient) * max(0.0, -scene.sun[1])
    col = col * shade
    # haze towards the horizon
    haze = (1 - np.exp(-dist / 140.0))[..., None]
    col = col * (1 - haze) + scene.sky_horizon * haze
    img = np.where(ground[..., None], col, img)
    return img


def render_scene(scene: Scene,
                 calib: Calibration,
                 img_shape: Tuple[int, int],
                 seed: int = 0,
                 camera: CameraSpec = KITTI_CAM2
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """Render the image and the instance buffer of ``camera``.

    Returns:
        (image (H, W, 3) uint8 RGB, ids (H, W) int32 with -1 for background
        and the index of the owning solid elsewhere).
    """
    h, w = img_shape
    img = _ground_and_sky(scene, calib, h, w, seed, camera)
    ids = np.full((h, w), -1, np.int32)
    p = calib.projection(camera.projection)
    c2 = calib.camera_center(camera.projection)
    faces = []
    for part in scene.parts:
        corners = _part_corners(part)
        for face in _FACES:
            poly = corners[list(face)]
            centre = poly.mean(0)
            normal = np.cross(poly[1] - poly[0], poly[3] - poly[0])
            normal /= np.linalg.norm(normal) + 1e-12
            if np.dot(normal, centre - part.center) < 0:
                normal = -normal
            if np.dot(normal, centre - c2) >= 0:  # back face
                continue
            poly = _clip_near(poly, p)
            if len(poly) < 3:
                continue
            faces.append((np.linalg.norm(centre - c2), poly, normal, part))
    faces.sort(key=lambda f: -f[0])
    canvas = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    for dist, poly, normal, part in faces:
        uv = _project_uv(poly, p)
        if (uv[:, 0].max() < -w or uv[:, 0].min() > 2 * w
                or uv[:, 1].max() < -h or uv[:, 1].min() > 2 * h):
            continue
        pts = np.round(uv * 16).astype(np.int32)  # 4 bits of sub-pixel
        diffuse = max(0.0, float(-np.dot(normal, scene.sun)))
        shade = scene.ambient + (1 - scene.ambient) * diffuse
        haze = 1 - np.exp(-dist / 140.0)
        col = part.color * shade * (1 - haze) + scene.sky_horizon * haze
        col = tuple(int(c) for c in np.clip(col * 255, 0, 255))
        cv2.fillConvexPoly(canvas, pts, col, lineType=cv2.LINE_AA, shift=4)
        cv2.fillConvexPoly(ids, pts, int(part.owner), shift=4)
    out = canvas.astype(np.float32) * scene.gain
    rng = np.random.default_rng(seed)
    out += rng.normal(0, 2.0, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8), ids


def solid_masks_area(scene: Scene,
                     calib: Calibration,
                     img_shape: Tuple[int, int],
                     camera: CameraSpec = KITTI_CAM2,
                     only: Optional[Sequence[int]] = None) -> np.ndarray:
    """Pixels each solid would cover in ``camera`` if nothing occluded it,
    (num_solids,); with ``only``, just those solids' (0 for the others)."""
    h, w = img_shape
    p = calib.projection(camera.projection)
    areas = np.zeros(len(scene.solids), np.int64)
    wanted = None if only is None else set(int(i) for i in only)
    per_solid = {}
    for part in scene.parts:
        if wanted is None or part.owner in wanted:
            per_solid.setdefault(part.owner, []).append(part)
    for idx, parts in per_solid.items():
        mask = np.zeros((h, w), np.uint8)
        for part in parts:
            corners = _part_corners(part)
            for face in _FACES:
                poly = _clip_near(corners[list(face)], p)
                if len(poly) < 3:
                    continue
                uv = _project_uv(poly, p)
                cv2.fillConvexPoly(
                    mask, np.round(uv * 16).astype(np.int32), 1, shift=4)
        areas[idx] = int(mask.sum())
    return areas
