"""Camera calibration of one image: read from a KITTI ``calib/*.txt`` file,
or made from intrinsics and the camera's height, and checked against the
image it is used with.

A calibration here is the pair the student reads from its metainfo
(:func:`.geometry.check_calibration` conventions):

* ``lidar2cam`` (4, 4): LiDAR -> rectified camera, KITTI's
  ``R0_rect @ Tr_velo_to_cam``;
* ``cam2img`` (4, 4): KITTI's ``P2`` padded with ``[0, 0, 0, 1]``.

The student predicts boxes in the LiDAR frame and its BEV grid is fixed in
that frame (KITTI: x forward, y left, z up, origin 1.73 m above the road,
Geiger et al., IJRR 2013). An image without a LiDAR therefore needs a
*virtual* LiDAR frame placed as KITTI's: :func:`calib_from_intrinsics`.
"""
from typing import Dict, Sequence, Tuple

import numpy as np

from .geometry import check_calibration, to_homogeneous

#: Height of KITTI's Velodyne above the road (m), the origin of the LiDAR
#: frame every KITTI-trained grid and anchor is expressed in.
KITTI_LIDAR_HEIGHT = 1.73

#: KITTI LiDAR axes (x forward, y left, z up) -> camera axes (x right,
#: y down, z forward).
LIDAR_TO_CAMERA_AXES = np.array([[0., -1., 0.], [0., 0., -1.], [1., 0., 0.]])

_CALIB_SHAPES = dict(
    P0=(3, 4),
    P1=(3, 4),
    P2=(3, 4),
    P3=(3, 4),
    R0_rect=(3, 3),
    Tr_velo_to_cam=(3, 4),
    Tr_imu_to_velo=(3, 4))


def read_kitti_calib(path: str) -> Dict[str, np.ndarray]:
    """Parse a KITTI object ``calib/*.txt`` file.

    Args:
        path: the file.

    Returns:
        dict: ``P0``-``P3`` (3, 4), ``R0_rect`` (3, 3), ``Tr_velo_to_cam``
        and ``Tr_imu_to_velo`` (3, 4), those present in the file.

    Raises:
        ValueError: naming the file and the key, when a value is not a
            number, a matrix has the wrong number of values, or ``P2``,
            ``R0_rect`` or ``Tr_velo_to_cam`` is missing.
    """
    out = {}
    with open(path) as f:
        for line in f:
            if ':' not in line:
                continue
            key, vals = line.split(':', 1)
            key = key.strip()
            if key not in _CALIB_SHAPES:
                continue
            try:
                arr = np.array([float(v) for v in vals.split()])
            except ValueError as err:
                raise ValueError(f'{path}: key {key}: {err}') from None
            shape = _CALIB_SHAPES[key]
            if arr.size != np.prod(shape):
                raise ValueError(
                    f'{path}: key {key} has {arr.size} values, expected '
                    f'{np.prod(shape)} for a {shape} matrix')
            out[key] = arr.reshape(shape)
    missing = [k for k in ('P2', 'R0_rect', 'Tr_velo_to_cam') if k not in out]
    if missing:
        raise ValueError(f'{path}: missing calibration keys {missing}')
    return out


def calib_from_kitti(calib: Dict[str, np.ndarray],
                     where: str = '') -> Tuple[np.ndarray, np.ndarray]:
    """``(lidar2cam, cam2img)`` of camera 2 from a parsed KITTI calibration,
    as mmdet3d's KITTI converter puts them in the infos.

    Args:
        calib: :func:`read_kitti_calib`'s dict.
        where: named in errors (e.g. the file).

    Returns:
        tuple: float64 ``lidar2cam`` (4, 4) = ``R0_rect @ Tr_velo_to_cam``
        and ``cam2img`` (4, 4) = ``P2`` padded.
    """
    lidar2cam = to_homogeneous(calib['R0_rect']) @ to_homogeneous(
        calib['Tr_velo_to_cam'])
    lidar2cam, p2 = check_calibration(lidar2cam, calib['P2'], where)
    return lidar2cam, to_homogeneous(p2)


def calib_from_intrinsics(
        intrinsics: Sequence[float],
        cam_height: float,
        lidar_height: float = KITTI_LIDAR_HEIGHT
) -> Tuple[np.ndarray, np.ndarray]:
    """``(lidar2cam, cam2img)`` of a level, forward-looking pinhole camera
    ``cam_height`` m above a flat road, with a virtual LiDAR frame placed as
    KITTI's: same axes as the camera's ground projection, origin
    ``lidar_height`` m above the road, straight above the camera's ground
    point. KITTI's own rig (camera 1.65 m, Velodyne 1.73 m) gives a camera
    0.08 m below the LiDAR origin; its 0.27 m forward offset is left out.

    Args:
        intrinsics: ``(fx, fy, cx, cy)`` in pixels of the image as given.
        cam_height: height of the camera centre above the road (m, > 0).
        lidar_height: height of the virtual LiDAR origin (m).

    Returns:
        tuple: float64 ``lidar2cam`` (4, 4) and ``cam2img`` (4, 4).
    """
    if len(intrinsics) != 4:
        raise ValueError(f'intrinsics must be (fx, fy, cx, cy), got '
                         f'{list(intrinsics)}')
    fx, fy, cx, cy = (float(v) for v in intrinsics)
    if not all(np.isfinite([fx, fy, cx, cy])) or fx <= 0 or fy <= 0:
        raise ValueError(f'intrinsics (fx, fy, cx, cy) = {list(intrinsics)}:'
                         ' focal lengths must be finite and > 0')
    if not np.isfinite(cam_height) or cam_height <= 0:
        raise ValueError(f'camera height {cam_height} m must be > 0')
    cam2img = np.array([[fx, 0., cx, 0.], [0., fy, cy, 0.], [0., 0., 1., 0.],
                        [0., 0., 0., 1.]])
    lidar2cam = np.eye(4)
    lidar2cam[:3, :3] = LIDAR_TO_CAMERA_AXES
    # the camera centre is at LiDAR (0, 0, cam_height - lidar_height):
    # t = -R @ centre
    centre = np.array([0., 0., cam_height - lidar_height])
    lidar2cam[:3, 3] = -LIDAR_TO_CAMERA_AXES @ centre
    return lidar2cam, cam2img


def check_calib_fits_image(cam2img: np.ndarray, img_shape: Sequence[int],
                           where: str = 'the image',
                           margin: float = 0.25) -> None:
    """Refuse a calibration made for another image size or crop: the
    principal point of ``cam2img`` must lie in the central part of the
    image (``margin`` of each side left out). KITTI's P2 has it near the
    centre, (609.6, 172.9) of 1242 x 375, and so have nuScenes' and Waymo's
    cameras; the same P2 with a half-size image puts it at the right edge.

    Args:
        cam2img: (3|4, 3|4) camera -> image of the image (KITTI: P2).
        img_shape: (H, W, ...) of the image.
        where: how the error names the image (e.g. ``'image <path>'``).
        margin: fraction of the width / height left out on each side.

    Raises:
        ValueError: naming ``where``, its size, the principal point and the
            image size the calibration expects.
    """
    c2i = np.asarray(cam2img, dtype=np.float64)
    if c2i.ndim != 2 or min(c2i.shape) < 3 or c2i[2, 2] == 0:
        raise ValueError(f'{where}: cam2img must be a 3x3, 3x4 or 4x4 '
                         f'camera matrix, got {c2i.tolist()}')
    h, w = img_shape[:2]
    cu, cv = c2i[0, 2] / c2i[2, 2], c2i[1, 2] / c2i[2, 2]
    if not (margin * w <= cu <= (1 - margin) * w
            and margin * h <= cv <= (1 - margin) * h):
        raise ValueError(
            f'{where} is {h}x{w} (HxW) but the principal point ({cu:.1f}, '
            f'{cv:.1f}) of its cam2img is not in the central '
            f'{1 - 2 * margin:.0%} of it: the calibration expects an image '
            f'of about {2 * cv:.0f}x{2 * cu:.0f} (another size or crop?)')
