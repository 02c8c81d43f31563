"""Camera / LiDAR geometry of the synthetic KITTI world.

Frames: the rectified camera frame of KITTI ("cam": x right, y down, z
forward, metres) is the world frame of the generator; the LiDAR frame is
KITTI's velodyne frame (x forward, y left, z up). ``lidar2cam = R0_rect @
Tr_velo_to_cam`` maps LiDAR points into "cam"; ``P2`` projects "cam" points
into the left colour image.
"""
from dataclasses import dataclass, field
from typing import Dict

import numpy as np

from ...structures.geometry import project_points, to_homogeneous

# Calibration of the KITTI recording 2011_09_26 (values as published in the
# KITTI object benchmark calibration files of that date).
KITTI_P0 = np.array([[721.5377, 0.0, 609.5593, 0.0],
                     [0.0, 721.5377, 172.854, 0.0], [0.0, 0.0, 1.0, 0.0]])
KITTI_P1 = np.array([[721.5377, 0.0, 609.5593, -387.5744],
                     [0.0, 721.5377, 172.854, 0.0], [0.0, 0.0, 1.0, 0.0]])
KITTI_P2 = np.array([[721.5377, 0.0, 609.5593, 44.85728],
                     [0.0, 721.5377, 172.854, 0.2163791],
                     [0.0, 0.0, 1.0, 0.002745884]])
KITTI_P3 = np.array([[721.5377, 0.0, 609.5593, -339.5242],
                     [0.0, 721.5377, 172.854, 2.199936],
                     [0.0, 0.0, 1.0, 0.002729905]])
KITTI_R0_RECT = np.array([[0.9999239, 0.00983776, -0.007445048],
                          [-0.009869795, 0.9999421, -0.004278459],
                          [0.007402527, 0.004351614, 0.9999631]])
KITTI_TR_VELO_TO_CAM = np.array(
    [[0.007533745, -0.9999714, -0.0006166020, -0.004069766],
     [0.01480249, 0.0007280733, -0.9998902, -0.07631618],
     [0.9998621, 0.007523790, 0.01480755, -0.2717806]])
KITTI_TR_IMU_TO_VELO = np.array(
    [[0.9999976, 0.0007553071, -0.002035826, -0.8086759],
     [-0.0007854027, 0.9998898, -0.01482298, 0.3195559],
     [0.002024406, 0.01482454, 0.9998881, -0.7997231]])

#: Recording dates of the synthetic world. The first is KITTI's real
#: calibration; the others are small deterministic perturbations of it
#: (focal length, principal point, LiDAR mounting), so that "several
#: calibration dates" exist as in KITTI raw.
CALIB_DATES = ('2011_09_26', '2011_09_28', '2011_09_29', '2011_09_30',
               '2011_10_03')

CAMERA_HEIGHT = 1.65  # metres above the ground (KITTI: 1.65 m)


def _rot(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    if axis == 'x':
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == 'y':
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def to_hom(mat: np.ndarray) -> np.ndarray:
    """Pad a 3x3 or 3x4 matrix to 4x4 (float64)."""
    return to_homogeneous(np.asarray(mat, dtype=np.float64))


@dataclass
class Calibration:
    """One KITTI calibration (the content of a ``calib/*.txt`` file)."""
    date: str
    P0: np.ndarray
    P1: np.ndarray
    P2: np.ndarray
    P3: np.ndarray
    R0_rect: np.ndarray
    Tr_velo_to_cam: np.ndarray
    Tr_imu_to_velo: np.ndarray = field(
        default_factory=lambda: KITTI_TR_IMU_TO_VELO.copy())

    @property
    def lidar2cam(self) -> np.ndarray:
        """(4, 4) LiDAR -> rectified camera."""
        return to_hom(self.R0_rect) @ to_hom(self.Tr_velo_to_cam)

    @property
    def cam2img(self) -> np.ndarray:
        """(4, 4) rectified camera -> image 2 (P2 padded)."""
        return to_hom(self.P2)

    @property
    def cam2_center(self) -> np.ndarray:
        """Optical centre of camera 2 in the rectified frame, (3,)."""
        return self.camera_center('P2')

    def projection(self, key: str) -> np.ndarray:
        """(3, 4) projection ``key`` ('P0' ... 'P3'): rectified camera ->
        image of that camera."""
        if key not in ('P0', 'P1', 'P2', 'P3'):
            raise KeyError(f'no projection {key!r} in a KITTI calibration')
        return getattr(self, key)

    def camera_center(self, key: str) -> np.ndarray:
        """Optical centre of the camera of projection ``key`` in the
        rectified frame, (3,)."""
        p = self.projection(key)
        return -np.linalg.solve(p[:, :3], p[:, 3])

    def as_dict(self) -> Dict[str, np.ndarray]:
        return dict(
            P0=self.P0,
            P1=self.P1,
            P2=self.P2,
            P3=self.P3,
            R0_rect=self.R0_rect,
            Tr_velo_to_cam=self.Tr_velo_to_cam,
            Tr_imu_to_velo=self.Tr_imu_to_velo)


def calibration_for_date(date: str) -> Calibration:
    """The calibration of a synthetic recording date (deterministic)."""
    if date not in CALIB_DATES:
        raise KeyError(f'unknown calibration date {date!r}; '
                       f'known: {", ".join(CALIB_DATES)}')
    idx = CALIB_DATES.index(date)
    if idx == 0:
        return Calibration(date, KITTI_P0.copy(), KITTI_P1.copy(),
                           KITTI_P2.copy(), KITTI_P3.copy(),
                           KITTI_R0_RECT.copy(), KITTI_TR_VELO_TO_CAM.copy())
    rng = np.random.default_rng(1000 + idx)
    f_scale = 1 + rng.uniform(-0.012, 0.012)
    dc = rng.uniform(-6, 6, size=2)
    ps = []
    for p in (KITTI_P0, KITTI_P1, KITTI_P2, KITTI_P3):
        p = p.copy()
        p[0, 0] *= f_scale
        p[1, 1] *= f_scale
        p[0, 3] *= f_scale
        p[1, 3] *= f_scale
        p[0, 2] += dc[0]
        p[1, 2] += dc[1]
        ps.append(p)
    # LiDAR mounting: a few milliradians and millimetres.
    d_rot = _rot('x', rng.normal(0, 0.003)) @ _rot('y', rng.normal(
        0, 0.003)) @ _rot('z', rng.normal(0, 0.003))
    tr = KITTI_TR_VELO_TO_CAM.copy()
    tr[:, :3] = d_rot @ tr[:, :3]
    tr[:, 3] += rng.normal(0, 0.01, size=3)
    return Calibration(date, *ps, KITTI_R0_RECT.copy(), tr)


def box_corners_cam(loc: np.ndarray, dims_lhw: np.ndarray,
                    ry: float) -> np.ndarray:
    """Corners of a KITTI camera box.

    Args:
        loc: (3,) bottom centre in the rectified camera frame.
        dims_lhw: (3,) length (local x), height (-y), width (local z).
        ry: yaw about the camera y axis (KITTI ``rotation_y``).

    Returns:
        (8, 3) corners; the first four on the bottom face.
    """
    l, h, w = dims_lhw
    x = np.array([l, l, -l, -l, l, l, -l, -l]) / 2
    y = np.array([0, 0, 0, 0, -h, -h, -h, -h])
    z = np.array([w, -w, -w, w, w, -w, -w, w]) / 2
    return np.stack([x, y, z], 1) @ _rot('y', ry).T + loc


def project(points_cam: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Project (N, 3) camera points with a 3x4 matrix; returns (N, 3) u, v,
    rectified z (:func:`~cmkd_mmdet3d.structures.geometry.project_points`
    with the depth offset ``p2[2, 3]``)."""
    uv, depth = project_points(points_cam, p2, depth_offset=p2[2, 3])
    return np.concatenate([uv, depth[:, None]], 1)
