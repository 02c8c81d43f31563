"""The sensor rig of the synthetic world: which cameras and which LiDAR
observe a scene, and where their calibrations come from.

The renderer (:func:`~.render.render_scene`), the labeller
(:func:`~.frame.box_label`), the LiDAR simulator (:func:`~.lidar.cast_lidar`)
and the scene's ground (:func:`~.scene.sample_scene`) read the sensors from a
:class:`SensorRig`; the on-disk layout is the writer's business
(:mod:`.writer` writes :data:`KITTI_RIG` in the KITTI layouts).

A calibration (``rig.calibration_for_date(date)``) provides, in the world
frame of the generator (the rectified reference camera: x right, y down, z
forward):

* ``projection(key)``: the (3, 4) projection of the camera whose
  :attr:`CameraSpec.projection` is ``key``;
* ``camera_center(key)``: that camera's optical centre, (3,);
* ``lidar2cam``: the (4, 4) LiDAR -> world transform.

:class:`~.geometry.Calibration` (KITTI's ``calib/*.txt`` content) is one.
"""
from dataclasses import dataclass
from typing import Callable, Tuple

from .geometry import (CALIB_DATES, CAMERA_HEIGHT, Calibration,
                       calibration_for_date)


@dataclass(frozen=True)
class CameraSpec:
    """One camera of a rig.

    Args:
        name: The camera's key in mmdet3d infos (``images``), e.g. 'CAM2'.
        projection: Key of its (3, 4) projection in the calibration, e.g.
            'P2'.
        img_shape: Native image size (H, W).
    """
    name: str
    projection: str
    img_shape: Tuple[int, int]


@dataclass(frozen=True)
class LidarSpec:
    """A spinning LiDAR: evenly spaced beams over a full turn.

    Args:
        name: Model name (documentation only).
        num_beams: Number of beams (rows).
        elevation_deg: Lowest and highest beam elevation, degrees.
        azimuth_step_deg: Azimuth resolution, degrees.
        max_range: Farthest return, metres.
        range_noise: Standard deviation of the range noise, metres.
        dropout: Base probability of a lost return (grows with range).
    """
    name: str
    num_beams: int
    elevation_deg: Tuple[float, float]
    azimuth_step_deg: float
    max_range: float
    range_noise: float
    dropout: float


@dataclass(frozen=True)
class SensorRig:
    """Cameras, LiDAR and calibrations of one recording platform.

    Args:
        name: Unique name of the rig.
        cameras: The cameras; the first is the label camera (its image
            carries the 2D boxes, truncation and occlusion of the labels).
        lidar: The LiDAR (its pose is the calibration's ``lidar2cam``).
        calib_dates: Recording dates; frames cycle through them.
        calibration_for_date: Date -> calibration (see the module
            docstring for what a calibration provides).
        ground_height: Height of the world origin (the reference camera)
            above the ground, metres.
    """
    name: str
    cameras: Tuple[CameraSpec, ...]
    lidar: LidarSpec
    calib_dates: Tuple[str, ...]
    calibration_for_date: Callable[[str], Calibration]
    ground_height: float


#: KITTI's left colour camera (``image_2``, projection ``P2``).
KITTI_CAM2 = CameraSpec(name='CAM2', projection='P2', img_shape=(375, 1242))

#: KITTI's Velodyne HDL-64E (its spacing is close to even over this span).
KITTI_HDL64E = LidarSpec(
    name='Velodyne HDL-64E',
    num_beams=64,
    elevation_deg=(-24.8, 2.0),
    azimuth_step_deg=0.16,
    max_range=120.0,
    range_noise=0.02,
    dropout=0.04)

#: The KITTI recording platform: one colour camera and the HDL-64E, with
#: the calibrations of :data:`~.geometry.CALIB_DATES`.
KITTI_RIG = SensorRig(
    name='kitti',
    cameras=(KITTI_CAM2, ),
    lidar=KITTI_HDL64E,
    calib_dates=CALIB_DATES,
    calibration_for_date=calibration_for_date,
    ground_height=CAMERA_HEIGHT)
