"""One synthetic frame: scene -> the label camera's image, LiDAR sweep, KITTI
labels (of a :class:`~.rig.SensorRig`, :data:`~.rig.KITTI_RIG` by default)."""
from dataclasses import dataclass, replace
from typing import List, Optional, Tuple

import numpy as np

from .geometry import Calibration, box_corners_cam, project
from .lidar import cast_lidar
from .render import render_scene, solid_masks_area
from .rig import KITTI_CAM2, KITTI_RIG, CameraSpec, LidarSpec, SensorRig
from .scene import Scene, sample_scene

KITTI_IMG_SHAPE = KITTI_CAM2.img_shape


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 RGB of the rig's label camera
    points: np.ndarray  # (N, 4) float32, LiDAR frame
    labels: List[str]  # KITTI label lines (label_2 for KITTI's CAM2)
    calib: Calibration
    scene: Scene


def box_label(solid,
              calib: Calibration,
              img_shape,
              visible_px: int,
              full_px: int,
              camera: CameraSpec = KITTI_CAM2) -> str:
    """The KITTI label line of a solid in ``camera``'s image (a DontCare line
    for barely visible ones), or '' for solids outside the image.

    The 3D part (location, rotation_y, alpha) is in the world frame, so the
    camera must share it (as KITTI's P0-P3 share the rectified frame)."""
    h_img, w_img = img_shape
    # the label stores 2 decimals; derive the 2D box from the stored values
    # so that the file is self-consistent
    loc = np.round(solid.loc, 2)
    dims = np.round(solid.dims, 2)
    ry = round((solid.ry + np.pi) % (2 * np.pi) - np.pi, 2)
    corners = box_corners_cam(loc, dims, ry)
    front = corners[:, 2] > 0.1
    if loc[2] < 1.0 or not front.any():
        return ''
    uvz = project(corners[front], calib.projection(camera.projection))
    x1, y1 = uvz[:, 0].min(), uvz[:, 1].min()
    x2, y2 = uvz[:, 0].max(), uvz[:, 1].max()
    cx1, cy1 = np.clip([x1, y1], 0, [w_img - 1, h_img - 1])
    cx2, cy2 = np.clip([x2, y2], 0, [w_img - 1, h_img - 1])
    if cx2 - cx1 < 1 or cy2 - cy1 < 1:
        return ''
    area = max((x2 - x1) * (y2 - y1), 1e-6)
    trunc = 1 - (cx2 - cx1) * (cy2 - cy1) / area
    if not front.all():
        trunc = max(trunc, 0.5)
    vis = visible_px / max(full_px, 1)
    x, y, z = loc
    if vis < 0.05 or cy2 - cy1 < 8 or trunc > 0.7:
        return (f'DontCare -1 -1 -10 {cx1:.2f} {cy1:.2f} {cx2:.2f} {cy2:.2f} '
                '-1 -1 -1 -1000 -1000 -1000 -10')
    occ = 0 if vis > 0.85 else (1 if vis > 0.5 else 2)
    alpha = (ry - np.arctan2(x, z) + np.pi) % (2 * np.pi) - np.pi
    l, h, w = dims
    return (f'{solid.cls} {trunc:.2f} {occ:d} {alpha:.2f} {cx1:.2f} {cy1:.2f} '
            f'{cx2:.2f} {cy2:.2f} {h:.2f} {w:.2f} {l:.2f} {x:.2f} {y:.2f} '
            f'{z:.2f} {ry:.2f}')


def rig_lidar(rig: SensorRig,
              num_beams: Optional[int] = None,
              azimuth_step_deg: Optional[float] = None) -> LidarSpec:
    """The rig's LiDAR, with the beams / azimuth step overridden if given."""
    lidar = rig.lidar
    if num_beams is not None:
        lidar = replace(lidar, num_beams=num_beams)
    if azimuth_step_deg is not None:
        lidar = replace(lidar, azimuth_step_deg=azimuth_step_deg)
    return lidar


def make_frame(seed: int,
               calib: Calibration,
               img_shape: Optional[Tuple[int, int]] = None,
               num_beams: Optional[int] = None,
               azimuth_step_deg: Optional[float] = None,
               num_objects=(4, 14),
               rig: SensorRig = KITTI_RIG) -> Frame:
    """Generate a frame; a pure function of its arguments.

    The image and the labels are those of the rig's first (label) camera, at
    ``img_shape`` (default: its native size); ``num_beams`` and
    ``azimuth_step_deg`` override the rig's LiDAR. The other cameras of a
    rig can be rendered from ``frame.scene`` with :func:`render_scene`.
    """
    camera = rig.cameras[0]
    if img_shape is None:
        img_shape = camera.img_shape
    rng = np.random.default_rng(seed)
    scene = sample_scene(
        rng, num_objects=num_objects, ground_height=rig.ground_height)
    image, ids = render_scene(scene, calib, img_shape, seed=seed,
                              camera=camera)
    points = cast_lidar(scene, calib, rng,
                        rig_lidar(rig, num_beams, azimuth_step_deg))
    visible = np.bincount(ids[ids >= 0].ravel(), minlength=len(scene.solids))
    full = solid_masks_area(scene, calib, img_shape, camera)
    labels = []
    for i, solid in enumerate(scene.solids):
        if solid.cls is None:
            continue
        line = box_label(solid, calib, img_shape, visible[i], full[i],
                         camera)
        if line:
            labels.append(line)
    return Frame(image, points, labels, calib, scene)
