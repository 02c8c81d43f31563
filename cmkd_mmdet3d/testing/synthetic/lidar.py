"""A spinning LiDAR (a :class:`~.rig.LidarSpec`, KITTI's 64-beam HDL-64E by
default) ray-cast against the scene's ground and parts."""
import numpy as np

from .geometry import Calibration
from .rig import KITTI_HDL64E, LidarSpec
from .scene import Scene


def beam_directions(lidar: LidarSpec = KITTI_HDL64E) -> np.ndarray:
    """Unit ray directions in the LiDAR frame, (num_beams, num_azimuths, 3).

    Azimuths cover the full turn; the elevations are evenly spaced (the
    HDL-64E's spacing is close to even over its span).
    """
    elevation_deg = lidar.elevation_deg
    elev = np.deg2rad(
        np.linspace(elevation_deg[0], elevation_deg[1], lidar.num_beams))
    azim = np.deg2rad(np.arange(-180.0, 180.0, lidar.azimuth_step_deg))
    ce, se = np.cos(elev)[:, None], np.sin(elev)[:, None]
    return np.stack(
        np.broadcast_arrays(ce * np.cos(azim), ce * np.sin(azim), se), -1)


def _ray_box(o, d, part):
    """Entry distance of rays (R,3) into an upright cuboid, inf if missed.

    Returns (t, normal) with the outward normal (R, 3) in the camera frame.
    """
    c, s = np.cos(part.ry), np.sin(part.ry)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])  # local -> cam
    ol = (o - part.center) @ rot
    dl = d @ rot
    half = part.dims / 2  # local x = length, y = height, z = width
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = 1.0 / dl
        t1 = (-half - ol) * inv
        t2 = (half - ol) * inv
    tmin_axes = np.minimum(t1, t2)
    tmax = np.min(np.maximum(t1, t2), axis=1)
    axis = np.argmax(tmin_axes, axis=1)
    tmin = tmin_axes[np.arange(len(o)), axis]
    hit = (tmax >= tmin) & (tmin > 1e-3)
    t = np.where(hit, tmin, np.inf)
    normal_l = np.zeros_like(dl)
    normal_l[np.arange(len(o)), axis] = -np.sign(dl[np.arange(len(o)), axis])
    return t, normal_l @ rot.T


def cast_lidar(scene: Scene,
               calib: Calibration,
               rng: np.random.Generator,
               lidar: LidarSpec = KITTI_HDL64E) -> np.ndarray:
    """Simulate one sweep of ``lidar``, mounted at ``calib.lidar2cam``.

    Returns:
        np.ndarray: (N, 4) float32 points (x, y, z, intensity) in the LiDAR
        frame, intensity in [0, 1].
    """
    azimuth_step_deg = lidar.azimuth_step_deg
    max_range = lidar.max_range
    range_noise = lidar.range_noise
    dropout = lidar.dropout
    dirs_l = beam_directions(lidar)
    nb, na, _ = dirs_l.shape
    l2c = calib.lidar2cam
    rot, origin = l2c[:3, :3], l2c[:3, 3]
    dirs = dirs_l.reshape(-1, 3) @ rot.T  # camera frame
    n_rays = len(dirs)
    o = np.broadcast_to(origin, dirs.shape)

    # ground plane: y - sx * x - sz * z = h  (normal points down, +y)
    sx, sz = scene.ground_slope
    g_n = np.array([-sx, 1.0, -sz])
    h = scene.ground_y(0.0, 0.0)
    denom = dirs @ g_n
    with np.errstate(divide='ignore', invalid='ignore'):
        t_ground = (h - origin @ g_n) / denom
    t_ground = np.where((denom > 1e-6) & (t_ground > 0), t_ground, np.inf)
    best_t = t_ground
    normal = np.broadcast_to(-g_n / np.linalg.norm(g_n), dirs.shape).copy()
    refl = np.full(n_rays, 0.18)

    # parts: only test the azimuth window each part can occupy
    azim = np.arange(na)
    for part in scene.parts:
        rel_l = rot.T @ (part.center - origin)  # part centre, LiDAR frame
        dist = np.linalg.norm(rel_l[:2])
        radius = 0.5 * np.linalg.norm(part.dims) + 0.05
        if dist - radius > max_range:
            continue
        if dist <= radius:
            cols = azim
        else:
            centre = np.degrees(np.arctan2(rel_l[1], rel_l[0]))
            half = np.degrees(np.arcsin(min(1.0, radius / dist)))
            lo = int(np.floor((centre - half + 180) / azimuth_step_deg))
            hi = int(np.ceil((centre + half + 180) / azimuth_step_deg))
            cols = np.arange(lo, hi + 1) % na
        idx = (np.arange(nb)[:, None] * na + cols[None, :]).ravel()
        t, nrm = _ray_box(o[idx], dirs[idx], part)
        closer = t < best_t[idx]
        sel = idx[closer]
        best_t[sel] = t[closer]
        normal[sel] = nrm[closer]
        refl[sel] = part.reflectivity

    keep = best_t < max_range
    keep &= rng.random(
        n_rays) > dropout + 0.15 * np.clip(best_t / max_range, 0, 1)
    t = best_t[keep] + rng.normal(0, range_noise, keep.sum())
    d_l = dirs_l.reshape(-1, 3)[keep]
    pts = d_l * t[:, None]
    cos_inc = np.abs(np.sum(normal[keep] * dirs[keep], axis=1))
    inten = refl[keep] * (0.4 + 0.6 * cos_inc) * (1 - 0.3 * t / max_range)
    inten = np.clip(inten + rng.normal(0, 0.02, len(t)), 0, 1)
    return np.concatenate([pts, inten[:, None]], 1).astype(np.float32)
