"""A physically consistent synthetic driving world in the KITTI and
nuScenes layouts.

A test and demo fixture generator (it registers nothing), also behind
``python tools/create_data.py synthetic-kitti`` and ``synthetic-nuscenes``.

Modules: :mod:`.geometry` (KITTI calibrations and box geometry),
:mod:`.rig` (the sensor rig), :mod:`.scene` (random scenes of cuboid parts),
:mod:`.render` (a camera image), :mod:`.lidar` (a LiDAR sweep),
:mod:`.frame` (scene -> image, sweep, labels), :mod:`.writer` (the KITTI
object and raw layouts on disk), :mod:`.surround` (the nuScenes-like
surround rig and moving scenes) and :mod:`.nuscenes_writer` (the nuScenes
layout).

The sensor-rig seam: the sensors are not constants of the renderer or of the
LiDAR simulator but a :class:`~.rig.SensorRig` value: a tuple of
:class:`~.rig.CameraSpec` (which projection of the calibration, native image
size; the first camera carries the labels), a :class:`~.rig.LidarSpec`
(beams, elevation span, azimuth step, range, noise, dropout), the
calibration dates with a date -> calibration function, and the height of
the world origin above the ground. :data:`~.rig.KITTI_RIG` (KITTI's left
colour camera P2 and the Velodyne HDL-64E) is the only rig today;
:mod:`.writer` writes it in the KITTI layouts and refuses rigs that those
layouts cannot hold (other than one camera with projection P2).

A second rig (several cameras, another LiDAR, another layout) adds

* a ``SensorRig`` value, and a calibration type with ``projection(key)``,
  ``camera_center(key)`` and ``lidar2cam`` in the world frame (the
  reference camera's frame: x right, y down, z forward), if KITTI's
  :class:`~.geometry.Calibration` cannot express it;
* a writer for its layout, which calls :func:`~.frame.make_frame` with
  ``rig=`` (scene, LiDAR sweep, label camera) and
  :func:`~.render.render_scene` / :func:`~.frame.box_label` with
  ``camera=`` for its other cameras on ``frame.scene``,

and reuses the scene sampler, the renderer and the LiDAR simulator as they
are. :mod:`.surround` is such a rig (nuScenes' six cameras and a 32-beam
LiDAR on a moving ego, objects of the ten nuScenes classes placed around
the vehicle and moving along the road), and :mod:`.nuscenes_writer` its
layout (``python tools/create_data.py synthetic-nuscenes``).
:mod:`.waymo_writer` is another: Waymo's front camera and 64-beam top
LiDAR on the KITTI scene sampler, written in mmdet3d's Waymo layout
(``python tools/create_data.py synthetic-waymo``).
"""
from .frame import KITTI_IMG_SHAPE, Frame, make_frame
from .geometry import CALIB_DATES, Calibration, calibration_for_date
from .rig import (KITTI_CAM2, KITTI_HDL64E, KITTI_RIG, CameraSpec,
                  LidarSpec, SensorRig)
from .nuscenes_writer import generate_nuscenes_world
from .waymo_writer import generate_waymo_world, waymo_rig
from .writer import create_kitti_infos, generate_world, write_calib_txt

__all__ = [
    'KITTI_IMG_SHAPE', 'Frame', 'make_frame', 'CALIB_DATES', 'Calibration',
    'calibration_for_date', 'create_kitti_infos', 'generate_world',
    'write_calib_txt', 'generate_nuscenes_world', 'generate_waymo_world',
    'waymo_rig', 'CameraSpec', 'LidarSpec',
    'SensorRig', 'KITTI_CAM2', 'KITTI_HDL64E', 'KITTI_RIG'
]
