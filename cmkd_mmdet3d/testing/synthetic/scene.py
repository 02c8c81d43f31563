"""Random driving scenes: objects, distractors, ground and light.

Every solid is a union of upright cuboid *parts* in the rectified camera frame;
the LiDAR ray caster and the renderer both use exactly these parts, so LiDAR
points lie on the surfaces that the image shows and inside the labelled box.
"""
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .geometry import CAMERA_HEIGHT

CLASSES = ('Car', 'Pedestrian', 'Cyclist')

# KITTI-like size statistics (mean, std) of (length, height, width), metres.
SIZE_STATS = {
    'Car': ((3.88, 1.53, 1.63), (0.43, 0.14, 0.10)),
    'Pedestrian': ((0.84, 1.76, 0.66), (0.23, 0.11, 0.14)),
    'Cyclist': ((1.76, 1.74, 0.60), (0.18, 0.09, 0.12)),
}


@dataclass
class Part:
    """An upright cuboid: geometric centre, (l, h, w) and yaw ``ry``."""
    center: np.ndarray
    dims: np.ndarray
    ry: float
    color: np.ndarray  # RGB in [0, 1]
    reflectivity: float  # LiDAR intensity scale in [0, 1]
    owner: int  # index into Scene.solids


@dataclass
class Solid:
    """A labelled object or an unlabelled distractor."""
    cls: Optional[str]  # None for distractors
    loc: np.ndarray  # bottom centre (KITTI label location)
    dims: np.ndarray  # (l, h, w) of the enclosing box
    ry: float
    parts: List[Part] = field(default_factory=list)


@dataclass
class Scene:
    solids: List[Solid]
    ground_slope: np.ndarray  # (d y / d x, d y / d z): small roll / pitch
    sun: np.ndarray  # unit vector towards the sun (camera frame)
    ambient: float
    gain: float
    road_tone: float
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    #: height of the world origin (the rig's reference camera) above the
    #: ground at x = z = 0, metres
    ground_height: float = CAMERA_HEIGHT

    @property
    def parts(self) -> List[Part]:
        return [p for s in self.solids for p in s.parts]

    def ground_y(self, x, z):
        """Height (camera y, down) of the ground under (x, z)."""
        return self.ground_height + self.ground_slope[0] * x + \
            self.ground_slope[1] * z


def _rot_y(ry):
    c, s = np.cos(ry), np.sin(ry)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _part(solid, idx, offset_local, dims, color, refl):
    """A part placed relative to the solid's bottom centre and yaw."""
    offset = _rot_y(solid.ry) @ np.asarray(offset_local, float)
    center = solid.loc + offset + np.array([0, -dims[1] / 2, 0])
    return Part(center, np.asarray(dims, float), solid.ry, color, refl, idx)


def _build_parts(solid: Solid, idx: int, rng) -> None:
    l, h, w = solid.dims
    base = rng.uniform(0.1, 0.9, 3)
    if solid.cls == 'Car':
        color = base * rng.uniform(0.5, 1.0)
        body_h = h * rng.uniform(0.5, 0.6)
        solid.parts.append(
            _part(solid, idx, (0, 0, 0), (l, body_h, w), color,
                  rng.uniform(0.3, 0.8)))
        cab_l = l * rng.uniform(0.5, 0.6)
        glass = np.array([0.15, 0.18, 0.22]) + 0.1 * color
        solid.parts.append(
            _part(solid, idx, (-0.05 * l, -body_h, 0),
                  (cab_l, h - body_h, w * 0.92), glass, 0.15))
    elif solid.cls == 'Pedestrian':
        legs = h * 0.47
        solid.parts.append(
            _part(solid, idx, (0, 0, 0), (l * 0.6, legs, w * 0.7),
                  rng.uniform(0.05, 0.4, 3), 0.35))
        solid.parts.append(
            _part(solid, idx, (0, -legs, 0), (l, h - legs - 0.22, w), base,
                  0.45))
        solid.parts.append(
            _part(solid, idx, (0, -(h - 0.22), 0), (0.2, 0.22, 0.2),
                  np.array([0.8, 0.6, 0.5]), 0.4))
    elif solid.cls == 'Cyclist':
        bike_h = h * 0.5
        solid.parts.append(
            _part(solid, idx, (0, 0, 0), (l, bike_h, w * 0.35),
                  np.array([0.1, 0.1, 0.1]) + 0.3 * base, 0.6))
        solid.parts.append(
            _part(solid, idx, (-0.1 * l, -bike_h, 0), (l * 0.4, h - bike_h, w),
                  base, 0.45))
    else:  # distractor: one cuboid
        gray = rng.uniform(0.25, 0.7)
        color = np.clip(gray + rng.normal(0, 0.06, 3), 0, 1)
        solid.parts.append(
            _part(solid, idx, (0, 0, 0), (l, h, w), color,
                  rng.uniform(0.1, 0.6)))


def _overlaps(x, z, r, placed):
    return any(
        (x - px)**2 + (z - pz)**2 < (r + pr)**2 for px, pz, pr in placed)


def sample_scene(rng: np.random.Generator,
                 num_objects=(4, 14),
                 num_distractors=(3, 9),
                 ground_height: float = CAMERA_HEIGHT) -> Scene:
    """Sample one scene.

    Objects are placed in front of the world origin, within about 40 degrees
    of its z axis (the field of view of a KITTI-like front camera).

    Args:
        rng: Random generator (the scene is a pure function of its state).
        num_objects: (min, max) labelled objects, before rejection.
        num_distractors: (min, max) unlabelled shapes.
        ground_height: Height of the world origin above the ground
            (:attr:`~.rig.SensorRig.ground_height`).
    """
    # road slope (roll, pitch): small, as on KITTI roads; steeper slopes push
    # far boxes above the z < 0 box-centre limit of KittiMetric
    slope = np.clip(rng.normal(0, 0.004, size=2), -0.01, 0.01)
    elev = np.deg2rad(rng.uniform(20, 70))
    azim = rng.uniform(-np.pi, np.pi)
    sun = np.array([
        np.cos(elev) * np.sin(azim), -np.sin(elev),
        np.cos(elev) * np.cos(azim)
    ])
    scene = Scene([], slope, sun, rng.uniform(0.35, 0.55),
                  rng.uniform(0.75, 1.2), rng.uniform(0.28, 0.42),
                  np.array([0.35, 0.55, 0.85]) * rng.uniform(0.8, 1.1),
                  np.array([0.75, 0.82, 0.9]) * rng.uniform(0.85, 1.05),
                  ground_height=ground_height)
    placed = []  # (x, z, radius) in bird's eye view

    def add(cls, x, z, dims, ry):
        r = 0.5 * np.hypot(dims[0], dims[2]) + 0.25
        if _overlaps(x, z, r, placed) or (x**2 + z**2) < 3.0**2:
            return False
        placed.append((x, z, r))
        loc = np.array([x, scene.ground_y(x, z), z])
        solid = Solid(cls, loc, np.asarray(dims, float), float(ry))
        _build_parts(solid, len(scene.solids), rng)
        scene.solids.append(solid)
        return True

    n = rng.integers(num_objects[0], num_objects[1] + 1)
    for _ in range(n):
        cls = rng.choice(CLASSES, p=(0.7, 0.2, 0.1))
        mean, std = SIZE_STATS[cls]
        dims = np.clip(
            rng.normal(mean, std),
            np.array(mean) * 0.6,
            np.array(mean) * 1.4)
        for _try in range(20):
            z = rng.uniform(4.0, 62.0)
            half_fov = z * 0.84 + 2.0  # ~40 degrees, plus a margin outside
            if cls == 'Car':
                if rng.random() < 0.6:  # driving along the road
                    x = rng.choice([-3.5, 0.0, 3.5]) + rng.normal(0, 0.5)
                    ry = rng.choice([-np.pi / 2, np.pi / 2]) + \
                        rng.normal(0, 0.12)
                else:  # parked or turning
                    x = rng.choice([-1, 1]) * rng.uniform(5.5, 12.0)
                    ry = rng.uniform(-np.pi, np.pi)
            elif cls == 'Pedestrian':
                x = rng.uniform(-half_fov, half_fov)
                ry = rng.uniform(-np.pi, np.pi)
            else:
                x = rng.choice([-1, 1]) * rng.uniform(2.5, 6.5)
                ry = rng.choice([-np.pi / 2, np.pi / 2]) + rng.normal(0, 0.2)
            if abs(x) < half_fov and add(cls, x, z, dims, ry):
                break

    m = rng.integers(num_distractors[0], num_distractors[1] + 1)
    for _ in range(m):
        kind = rng.choice(['pole', 'building', 'bin', 'barrier'])
        z = rng.uniform(3.0, 70.0)
        if kind == 'pole':
            dims = (0.2, rng.uniform(3, 6), 0.2)
            x = rng.choice([-1, 1]) * rng.uniform(5.5, 9)
        elif kind == 'building':
            dims = (rng.uniform(6, 20), rng.uniform(4, 10), rng.uniform(4, 8))
            x = rng.choice([-1, 1]) * rng.uniform(14, 24)
        elif kind == 'bin':
            dims = (0.6, rng.uniform(0.8, 1.2), 0.6)
            x = rng.choice([-1, 1]) * rng.uniform(5.5, 9)
        else:
            dims = (rng.uniform(2, 4), 0.9, 0.4)
            x = rng.choice([-1, 1]) * rng.uniform(5.0, 7)
        ry = np.pi / 2 + (0 if kind != 'bin' else rng.uniform(-1, 1))
        add(None, x, z, dims, ry)
    return scene
