"""A nuScenes-like surround rig and moving scenes around it.

Frames (all right-handed, metres):

* global: nuScenes' global frame (x, y on the ground, z up);
* ego: the vehicle (x forward, y left, z up, origin on the ground);
* sensor: a camera's optical frame (x right, y down, z forward) or the
  LiDAR's (nuScenes' LIDAR_TOP: x right, y forward, z up);
* world: the generator's frame, in which the renderer and the LiDAR
  simulator work (x right, y down, z forward, as KITTI's rectified camera):
  ``x = -(y_g - y0)``, ``y = -z_g``, ``z = x_g - x0`` for a scene origin
  ``(x0, y0)`` on the global ground. The road of the renderer runs along
  world z, i.e. along global x through the scene origin.

:class:`SurroundCalibration` gives the renderer and the LiDAR simulator what
a KITTI :class:`~.geometry.Calibration` gives them (``projection(key)``,
``camera_center(key)``, ``lidar2cam``) for a rig at one ego pose; the same
scene is rendered by every camera and swept by the LiDAR at every time step
(:func:`scene_at` moves the objects along their velocities).

The rig's cameras are level (no pitch or roll) at nuScenes' mounting
positions, yaws and intrinsics (of the sample in mmdet3d's nuScenes test
data, rounded); the LiDAR is a 32-beam HDL-32E-like sensor.
"""
from dataclasses import dataclass, replace
from typing import List, Tuple

import numpy as np

from .rig import CameraSpec, LidarSpec, SensorRig
from .scene import Scene, Solid, _build_parts, _overlaps, _part

#: The six cameras in nuScenes' order (as mmdet3d's NuScenesDataset lists
#: them).
NUS_CAMERAS = ('CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK',
               'CAM_BACK_LEFT', 'CAM_BACK_RIGHT')
NUS_IMG_SHAPE = (900, 1600)  # (H, W)

#: Per camera: mounting position in the ego frame (m), yaw of the optical
#: axis from the ego x axis (degrees, left positive), focal length and
#: principal point (px, at 1600 x 900).
NUS_CAMERA_MOUNTS = {
    'CAM_FRONT': ((1.70, 0.016, 1.51), 0.0, 1266.4, (816.3, 491.5)),
    'CAM_FRONT_RIGHT': ((1.55, -0.49, 1.50), -56.0, 1260.8, (808.0, 495.3)),
    'CAM_FRONT_LEFT': ((1.52, 0.49, 1.51), 55.0, 1272.6, (826.6, 479.8)),
    'CAM_BACK': ((0.03, 0.0, 1.58), 180.0, 809.2, (829.2, 481.8)),
    'CAM_BACK_LEFT': ((1.04, 0.49, 1.59), 109.0, 1256.7, (792.1, 492.8)),
    'CAM_BACK_RIGHT': ((1.02, -0.48, 1.56), -111.0, 1259.5, (807.3, 501.2)),
}
#: LIDAR_TOP in the ego frame: position (m); its x axis points to the
#: vehicle's right, its y axis forward (yaw -90 degrees), as in nuScenes.
NUS_LIDAR_MOUNT = ((0.94, 0.0, 1.84), -90.0)

#: A Velodyne HDL-32E-like LiDAR (nuScenes' LIDAR_TOP): 32 beams over
#: -30.67 .. +10.67 degrees, about 1090 azimuths per turn at 20 Hz.
NUS_HDL32E = LidarSpec(
    name='Velodyne HDL-32E',
    num_beams=32,
    elevation_deg=(-30.67, 10.67),
    azimuth_step_deg=0.33,
    max_range=70.0,
    range_noise=0.02,
    dropout=0.05)

#: The ten nuScenes detection classes: nuScenes category name, mean (l, h,
#: w) in metres, its std, and the sampling weight in a scene.
NUS_CLASSES = {
    'car': ('vehicle.car', (4.63, 1.74, 1.96), (0.35, 0.15, 0.12), 0.32),
    'truck': ('vehicle.truck', (6.9, 2.8, 2.5), (1.2, 0.4, 0.2), 0.08),
    'trailer': ('vehicle.trailer', (11.0, 3.6, 2.9), (1.5, 0.3, 0.15), 0.03),
    'bus': ('vehicle.bus.rigid', (10.9, 3.5, 2.9), (1.0, 0.2, 0.1), 0.04),
    'construction_vehicle': ('vehicle.construction', (6.4, 3.2, 2.7),
                             (0.8, 0.3, 0.2), 0.03),
    'bicycle': ('vehicle.bicycle', (1.70, 1.30, 0.61), (0.12, 0.1, 0.08),
                0.06),
    'motorcycle': ('vehicle.motorcycle', (2.11, 1.47, 0.77),
                   (0.15, 0.1, 0.08), 0.05),
    'pedestrian': ('human.pedestrian.adult', (0.73, 1.77, 0.67),
                   (0.12, 0.1, 0.1), 0.18),
    'traffic_cone': ('movable_object.trafficcone', (0.41, 1.07, 0.41),
                     (0.05, 0.1, 0.05), 0.11),
    'barrier': ('movable_object.barrier', (0.50, 0.98, 2.53),
                (0.05, 0.05, 0.2), 0.10),
}
VEHICLES = ('car', 'truck', 'trailer', 'bus', 'construction_vehicle')
CYCLES = ('bicycle', 'motorcycle')

#: world <- global for the scene origin at the global origin: x = -y_g,
#: y = -z_g, z = x_g
_WORLD_FROM_GLOBAL_ROT = np.array([[0., -1., 0.], [0., 0., -1.],
                                   [1., 0., 0.]])


def rot_z(yaw: float) -> np.ndarray:
    """(3, 3) rotation by ``yaw`` (rad) about z."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.], [s, c, 0.], [0., 0., 1.]])


def pose(rotation: np.ndarray, translation) -> np.ndarray:
    """(4, 4) rigid transform from a (3, 3) rotation and a translation."""
    mat = np.eye(4)
    mat[:3, :3] = rotation
    mat[:3, 3] = translation
    return mat


def world_from_global(origin_xy) -> np.ndarray:
    """(4, 4) global -> world for a scene origin ``(x0, y0)``."""
    rot = _WORLD_FROM_GLOBAL_ROT
    return pose(rot, -rot @ np.array([origin_xy[0], origin_xy[1], 0.]))


def camera2ego(yaw_deg: float, translation) -> np.ndarray:
    """(4, 4) optical frame -> ego of a level camera whose axis has the
    given yaw: its x (right), y (down) and z (forward) axes in the ego
    frame are the columns."""
    yaw = np.deg2rad(yaw_deg)
    fwd = np.array([np.cos(yaw), np.sin(yaw), 0.])
    right = np.array([np.sin(yaw), -np.cos(yaw), 0.])
    down = np.array([0., 0., -1.])
    return pose(np.stack([right, down, fwd], 1), translation)


@dataclass(frozen=True)
class SurroundRig:
    """The sensors of the surround platform at one image size.

    Args:
        img_shape: (H, W) of every camera image; the intrinsics are scaled
            from nuScenes' 1600 x 900.
        lidar: The LiDAR.
    """
    img_shape: Tuple[int, int] = NUS_IMG_SHAPE
    lidar: LidarSpec = NUS_HDL32E

    def intrinsics(self, name: str) -> np.ndarray:
        """(3, 3) intrinsics of camera ``name`` at :attr:`img_shape`."""
        _, _, f, (cx, cy) = NUS_CAMERA_MOUNTS[name]
        sy = self.img_shape[0] / NUS_IMG_SHAPE[0]
        sx = self.img_shape[1] / NUS_IMG_SHAPE[1]
        return np.array([[f * sx, 0., cx * sx], [0., f * sy, cy * sy],
                         [0., 0., 1.]])

    def sensor2ego(self, name: str) -> np.ndarray:
        """(4, 4) sensor -> ego of a camera or of 'LIDAR_TOP'."""
        if name == 'LIDAR_TOP':
            xyz, yaw = NUS_LIDAR_MOUNT
            return pose(rot_z(np.deg2rad(yaw)), xyz)
        xyz, yaw, _, _ = NUS_CAMERA_MOUNTS[name]
        return camera2ego(yaw, xyz)

    def as_sensor_rig(self) -> SensorRig:
        """The :class:`~.rig.SensorRig` view: cameras keyed by their name
        (the calibration's projection keys), the ego at the global origin
        for every 'date'."""
        cams = tuple(CameraSpec(n, n, tuple(self.img_shape))
                     for n in NUS_CAMERAS)
        return SensorRig(
            name='nuscenes', cameras=cams, lidar=self.lidar,
            calib_dates=('origin', ),
            calibration_for_date=lambda _: self.calibration(np.eye(4)),
            ground_height=0.0)

    def calibration(self, ego2global: np.ndarray,
                    origin_xy=(0., 0.)) -> 'SurroundCalibration':
        """The calibration of the rig at one ego pose."""
        return SurroundCalibration(self, np.asarray(ego2global, float),
                                   tuple(origin_xy))


@dataclass
class SurroundCalibration:
    """The rig at one ego pose, in the generator's world frame (see the
    module docstring): what the renderer and the LiDAR simulator read.

    Args:
        rig: The rig.
        ego2global: (4, 4) pose of the ego.
        origin_xy: The scene origin on the global ground.
    """
    rig: SurroundRig
    ego2global: np.ndarray
    origin_xy: Tuple[float, float] = (0., 0.)

    def world_from(self, sensor: str) -> np.ndarray:
        """(4, 4) sensor -> world."""
        return (world_from_global(self.origin_xy) @ self.ego2global
                @ self.rig.sensor2ego(sensor))

    def projection(self, key: str) -> np.ndarray:
        """(3, 4) world -> image of camera ``key``."""
        if key not in NUS_CAMERAS:
            raise KeyError(f'no camera {key!r} in the surround rig; '
                           f'cameras: {", ".join(NUS_CAMERAS)}')
        cam_from_world = np.linalg.inv(self.world_from(key))
        return self.rig.intrinsics(key) @ cam_from_world[:3]

    def camera_center(self, key: str) -> np.ndarray:
        """Optical centre of camera ``key`` in the world frame, (3,)."""
        return self.world_from(key)[:3, 3]

    @property
    def lidar2cam(self) -> np.ndarray:
        """(4, 4) LiDAR -> world (the name is the renderer's interface)."""
        return self.world_from('LIDAR_TOP')


# ------------------------------------------------------------------ scenes
@dataclass
class MovingScene:
    """A scene whose labelled objects move at constant velocities.

    Args:
        scene: The scene at time 0 (world frame; the ground at y = 0).
        velocities: (num_solids, 3) world velocities, m/s.
        attributes: Per solid, the nuScenes attribute name ('' for none and
            for distractors).
        ego_speed: Speed of the ego along world z (global x), m/s.
        origin_xy: Global position of the world origin.
    """
    scene: Scene
    velocities: np.ndarray
    attributes: List[str]
    ego_speed: float
    origin_xy: Tuple[float, float] = (0., 0.)

    def ego2global(self, t: float) -> np.ndarray:
        """(4, 4) ego pose at time ``t`` (s): centre lane, heading along
        global x."""
        x0, y0 = self.origin_xy
        return pose(np.eye(3), (x0 + self.ego_speed * t, y0, 0.))


def scene_at(moving: MovingScene, t: float) -> Scene:
    """The scene at time ``t`` (s): every solid and its parts moved by its
    velocity times ``t``."""
    solids = []
    for solid, vel in zip(moving.scene.solids, moving.velocities):
        shift = vel * t
        parts = [replace(p, center=p.center + shift) for p in solid.parts]
        solids.append(replace(solid, loc=solid.loc + shift, parts=parts))
    return replace(moving.scene, solids=solids)


#: |x| intervals (m, world x across the road) of the scene's bands: a
#: mover's footprint stays inside its band; the moving bands are disjoint
#: from each other and from the roadside and static ones.
BANDS = {
    'centre_lane': (0.0, 1.75),
    'lane': (1.8, 5.4),          # road edge at 5.4 (the renderer's line)
    'cycle': (5.4, 6.5),
    'roadside': (6.5, 7.4),      # barriers, cones (static)
    'walk': (7.4, 8.6),
    'static': (8.6, np.inf),     # standing, parked, poles, bins, buildings
}


def footprint_half_width(dims, ry: float) -> float:
    """Half the extent along world x (m) of a box of KITTI-style ``dims``
    (l, h, w) turned by ``ry`` about world y (length along
    (cos ry, 0, -sin ry))."""
    return 0.5 * (dims[0] * abs(np.cos(ry)) + dims[2] * abs(np.sin(ry)))


def _heading_ry(direction: float, rng) -> float:
    """KITTI-style yaw about world y of an object heading along +z
    (``direction`` 1) or -z (-1), with a little noise."""
    return -direction * np.pi / 2 + rng.normal(0, 0.01)


def _build_surround_parts(solid: Solid, idx: int, rng,
                          with_rider: bool) -> None:
    """Parts of a nuScenes class: cars, pedestrians and ridden cycles as the
    KITTI world's shapes; the others from a few cuboids."""
    l, h, w = solid.dims
    base = rng.uniform(0.1, 0.9, 3)
    glass = np.array([0.15, 0.18, 0.22])
    kitti_shape = {'car': 'Car', 'pedestrian': 'Pedestrian'}.get(solid.cls)
    if solid.cls in CYCLES and with_rider:
        kitti_shape = 'Cyclist'
    if kitti_shape is not None:
        _build_parts(replace(solid, cls=kitti_shape, parts=solid.parts), idx,
                     rng)
        return
    add = solid.parts.append
    if solid.cls == 'truck':
        add(_part(solid, idx, (0.36 * l, 0, 0), (0.28 * l, 0.8 * h, w),
                  base, 0.6))
        add(_part(solid, idx, (-0.14 * l, 0, 0), (0.72 * l, h, w),
                  np.array([0.8, 0.8, 0.78]) * rng.uniform(0.6, 1.0), 0.5))
    elif solid.cls == 'bus':
        add(_part(solid, idx, (0, 0, 0), (l, 0.55 * h, w), base, 0.6))
        add(_part(solid, idx, (0, -0.55 * h, 0), (l, 0.45 * h, 0.97 * w),
                  glass + 0.2 * base, 0.2))
    elif solid.cls == 'trailer':
        add(_part(solid, idx, (0, -0.25 * h, 0), (l, 0.75 * h, w),
                  np.array([0.7, 0.7, 0.72]) * rng.uniform(0.5, 1.0), 0.5))
        add(_part(solid, idx, (0.3 * l, 0, 0), (0.1 * l, 0.25 * h, 0.8 * w),
                  np.array([0.1, 0.1, 0.1]), 0.3))
    elif solid.cls == 'construction_vehicle':
        yellow = np.array([0.85, 0.65, 0.1]) * rng.uniform(0.7, 1.0)
        add(_part(solid, idx, (-0.1 * l, 0, 0), (0.8 * l, 0.45 * h, w),
                  yellow, 0.6))
        add(_part(solid, idx, (-0.2 * l, -0.45 * h, 0),
                  (0.3 * l, 0.55 * h, 0.8 * w), glass + 0.3 * yellow, 0.3))
        add(_part(solid, idx, (0.4 * l, -0.3 * h, 0),
                  (0.2 * l, 0.15 * h, 0.25 * w), yellow, 0.6))
    elif solid.cls in CYCLES:   # parked, without rider
        add(_part(solid, idx, (0, 0, 0), (l, 0.8 * h, w * 0.4),
                  np.array([0.1, 0.1, 0.1]) + 0.4 * base, 0.6))
    elif solid.cls == 'traffic_cone':
        orange = np.array([0.95, 0.45, 0.1])
        add(_part(solid, idx, (0, 0, 0), (l, 0.1 * h, w),
                  np.array([0.1, 0.1, 0.1]), 0.3))
        add(_part(solid, idx, (0, -0.1 * h, 0), (0.6 * l, 0.9 * h, 0.6 * w),
                  orange, 0.9))
    elif solid.cls == 'barrier':
        add(_part(solid, idx, (0, 0, 0), (l, h, w),
                  np.array([0.85, 0.85, 0.8]) * rng.uniform(0.7, 1.0), 0.8))
    else:
        raise ValueError(f'no shape for class {solid.cls!r}')


def sample_moving_scene(rng: np.random.Generator,
                        duration: float,
                        num_objects=(20, 40),
                        num_distractors=(6, 14),
                        origin_xy=(0., 0.)) -> MovingScene:
    """Sample a scene around the ego's path for ``duration`` seconds.

    The road of the renderer (lane centres at world x = -3.5, 0, 3.5, road
    edges at +-5.4) runs along world z; the ego drives the centre lane at
    0-8 m/s. Objects are placed in bands parallel to the road (``BANDS``,
    by |x| in metres): vehicles in the outer lanes (moving along, or
    stopped), cycles just beyond the road edges, barriers and cones beside
    them, walking pedestrians on the pavements, then static objects
    (standing pedestrians, parked cycles and vehicles, poles, bins,
    buildings); the centre lane holds at most one vehicle, moving with the
    ego. A mover's footprint lies inside its band, the bands of movers are
    disjoint from each other and from every static object, and the movers
    of one band share its speed, so nothing collides at any time; overlaps
    at time 0 are rejected. Objects are placed from 50 m behind the ego's
    start to 50 m ahead of its end.

    Args:
        rng: Random generator (the scene is a pure function of its state).
        duration: Seconds the scene lasts (from time 0).
        num_objects: (min, max) labelled objects, before rejection.
        num_distractors: (min, max) unlabelled shapes.
        origin_xy: Global position of the world origin.
    """
    ego_speed = float(rng.choice([0.0, rng.uniform(3.0, 8.0)], p=(0.2, 0.8)))
    z_lo, z_hi = -50.0, ego_speed * duration + 50.0
    slope = np.zeros(2)
    elev = np.deg2rad(rng.uniform(20, 70))
    azim = rng.uniform(-np.pi, np.pi)
    sun = np.array([np.cos(elev) * np.sin(azim), -np.sin(elev),
                    np.cos(elev) * np.cos(azim)])
    scene = Scene([], slope, sun, rng.uniform(0.35, 0.55),
                  rng.uniform(0.75, 1.2), rng.uniform(0.28, 0.42),
                  np.array([0.35, 0.55, 0.85]) * rng.uniform(0.8, 1.1),
                  np.array([0.75, 0.82, 0.9]) * rng.uniform(0.85, 1.05),
                  ground_height=0.0)
    # band speeds: lanes drive in opposite directions; x > 0 is the right
    # (world x = -global y) side
    # a lane is stopped (all its vehicles) with probability 0.15
    lane_speed = {side: side * rng.uniform(4, 10) * (rng.random() > 0.15)
                  for side in (1, -1)}
    edge_speed = {1: rng.uniform(2, 6), -1: -rng.uniform(2, 6)}
    walk_speed = {1: rng.choice([-1, 1]) * rng.uniform(0.8, 1.6),
                  -1: rng.choice([-1, 1]) * rng.uniform(0.8, 1.6)}
    placed, velocities, attributes = [], [], []

    def add(cls, x, z, dims, ry, vz, attribute, band, with_rider=False):
        r = 0.5 * np.hypot(dims[0], dims[2]) + 0.25
        half = footprint_half_width(dims, ry)
        lo, hi = BANDS[band]
        if abs(x) - half < lo or abs(x) + half > hi or \
                _overlaps(x, z, r, placed):
            return False
        placed.append((x, z, r))
        solid = Solid(cls, np.array([x, 0.0, z]), np.asarray(dims, float),
                      float(ry))
        if cls is None:
            _build_parts(solid, len(scene.solids), rng)
        else:
            _build_surround_parts(solid, len(scene.solids), rng, with_rider)
        scene.solids.append(solid)
        velocities.append(np.array([0.0, 0.0, vz]))
        attributes.append(attribute)
        return True

    names = list(NUS_CLASSES)
    weights = np.array([NUS_CLASSES[c][3] for c in names])
    n = rng.integers(num_objects[0], num_objects[1] + 1)
    if rng.random() < 0.5:      # a vehicle ahead, moving with the ego
        mean, std = NUS_CLASSES['car'][1:3]
        dims = np.clip(rng.normal(mean, std), np.array(mean) * 0.7,
                       np.array(mean) * 1.3)
        add('car', 0.0, rng.uniform(12, 25), dims, _heading_ry(1, rng),
            ego_speed, 'vehicle.moving' if ego_speed > 0 else
            'vehicle.stopped', 'centre_lane')
    for _ in range(n):
        cls = str(rng.choice(names, p=weights / weights.sum()))
        mean, std = NUS_CLASSES[cls][1:3]
        dims = np.clip(rng.normal(mean, std), np.array(mean) * 0.7,
                       np.array(mean) * 1.3)
        for _try in range(20):
            side = int(rng.choice([-1, 1]))
            z = rng.uniform(z_lo, z_hi)
            moving = rng.random() < 0.6
            if cls in VEHICLES:
                if moving:   # in its lane, with the lane's speed
                    vz = lane_speed[side]
                    ok = add(cls, side * 3.5 + rng.normal(0, 0.1), z, dims,
                             _heading_ry(side, rng), vz,
                             'vehicle.moving' if vz else 'vehicle.stopped',
                             'lane')
                else:        # parked along the road
                    ok = add(cls, side * rng.uniform(12.5, 15.5), z, dims,
                             _heading_ry(rng.choice([-1, 1]), rng), 0.0,
                             'vehicle.parked', 'static')
            elif cls in CYCLES:
                if moving:
                    ok = add(cls, side * 5.95 + rng.normal(0, 0.05), z, dims,
                             _heading_ry(np.sign(edge_speed[side]), rng),
                             edge_speed[side], 'cycle.with_rider', 'cycle',
                             with_rider=True)
                else:
                    ok = add(cls, side * rng.uniform(9.8, 10.4), z, dims,
                             rng.uniform(-np.pi, np.pi), 0.0,
                             'cycle.without_rider', 'static')
            elif cls == 'pedestrian':
                if moving:
                    ok = add(cls, side * rng.uniform(7.85, 8.1), z, dims,
                             _heading_ry(np.sign(walk_speed[side]), rng),
                             walk_speed[side], 'pedestrian.moving', 'walk')
                else:
                    ok = add(cls, side * rng.uniform(9.8, 10.4), z, dims,
                             rng.uniform(-np.pi, np.pi), 0.0,
                             'pedestrian.standing', 'static')
            else:   # barrier, traffic cone: beside the road edge
                ry = float(rng.choice([0.0, np.pi])) + rng.normal(0, 0.02)
                ok = add(cls, side * rng.uniform(6.85, 7.05), z, dims, ry,
                         0.0, '', 'roadside')
            if ok:
                break

    m = rng.integers(num_distractors[0], num_distractors[1] + 1)
    for _ in range(m):
        kind = rng.choice(['pole', 'building', 'bin'])
        z = rng.uniform(z_lo, z_hi)
        side = rng.choice([-1, 1])
        if kind == 'pole':
            dims = (0.2, rng.uniform(3, 6), 0.2)
            x = side * rng.uniform(10.5, 11.0)
        elif kind == 'building':
            dims = (rng.uniform(6, 20), rng.uniform(4, 10), rng.uniform(4, 8))
            x = side * rng.uniform(20, 26)
        else:
            dims, x = (0.6, rng.uniform(0.8, 1.2), 0.6), side * 10.8
        add(None, x, z, dims, np.pi / 2, 0.0, '', 'static')
    return MovingScene(scene, np.array(velocities).reshape(-1, 3),
                       attributes, ego_speed, tuple(origin_xy))


# ------------------------------------------------------------ annotations
def solid_global_box(solid: Solid, world2global: np.ndarray
                     ) -> Tuple[np.ndarray, np.ndarray, float]:
    """A solid's nuScenes box: global centre (3,), size (w, l, h) and yaw
    about global z (rad, from global x to the object's length axis)."""
    l, h, w = solid.dims
    centre_w = solid.loc + np.array([0.0, -h / 2, 0.0])
    centre = world2global[:3, :3] @ centre_w + world2global[:3, 3]
    heading_w = np.array([np.cos(solid.ry), 0.0, -np.sin(solid.ry)])
    heading = world2global[:3, :3] @ heading_w
    return centre, np.array([w, l, h]), float(np.arctan2(heading[1],
                                                         heading[0]))


def yaw_quaternion(yaw: float) -> List[float]:
    """[w, x, y, z] of a rotation by ``yaw`` about z."""
    return [float(np.cos(yaw / 2)), 0.0, 0.0, float(np.sin(yaw / 2))]


def matrix_quaternion(rot: np.ndarray) -> List[float]:
    """[w, x, y, z] of a (3, 3) rotation matrix."""
    from pyquaternion import Quaternion
    q = Quaternion(matrix=np.asarray(rot, float), atol=1e-6)
    return [float(v) for v in q.elements]


def points_in_box(points_global: np.ndarray, centre: np.ndarray,
                  size_wlh: np.ndarray, yaw: float) -> np.ndarray:
    """Mask of (N, 3) global points inside a yaw-rotated box, (N,)."""
    local = (points_global - centre) @ rot_z(yaw)
    w, l, h = size_wlh
    return ((np.abs(local[:, 0]) <= l / 2) & (np.abs(local[:, 1]) <= w / 2)
            & (np.abs(local[:, 2]) <= h / 2))


def global_velocity(vel_world: np.ndarray,
                    world2global: np.ndarray) -> np.ndarray:
    """A world velocity (3,) in the global frame."""
    return world2global[:3, :3] @ vel_world


def visibility_token(fraction: float) -> str:
    """nuScenes' visibility token ('1': 0-40 %, '2': 40-60 %, '3': 60-80 %,
    '4': 80-100 %)."""
    return '1' if fraction < 0.4 else '2' if fraction < 0.6 else (
        '3' if fraction < 0.8 else '4')


def ring_index(points: np.ndarray, lidar: LidarSpec) -> np.ndarray:
    """Beam (ring) index of (N, >=3) LiDAR-frame points from their
    elevation (exact: the range noise does not change the direction)."""
    elev = np.degrees(np.arctan2(points[:, 2],
                                 np.hypot(points[:, 0], points[:, 1])))
    lo, hi = lidar.elevation_deg
    ring = np.round((elev - lo) / (hi - lo) * (lidar.num_beams - 1))
    return np.clip(ring, 0, lidar.num_beams - 1)


def default_origin(scene_index: int) -> Tuple[float, float]:
    """A global origin per scene, far apart, nuScenes-like magnitudes."""
    return (400.0 + 300.0 * scene_index, 1100.0 + 200.0 * (scene_index % 4))


def camera_of(name: str, rig: SurroundRig) -> CameraSpec:
    """The :class:`~.rig.CameraSpec` of camera ``name``."""
    return CameraSpec(name, name, tuple(rig.img_shape))
