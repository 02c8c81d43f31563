"""Pictures of 3D boxes: projected on the image and in bird's eye view.

Pure functions on numpy arrays (OpenCV drawing, no display, no open3d), so
they run on headless CPU machines; the hook in
:mod:`cmkd_mmdet3d.engine.hooks.prediction_vis_hook` calls them.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from ..structures.geometry import grid_size, project_points

# mmdet3d's corner order (LiDARInstance3DBoxes.corners): 0, 3, 7, 4 is the
# bottom face and 4, 5, 6, 7 the front (+x) face.
_BOTTOM = (0, 3, 7, 4)
_EDGES = ((0, 3), (3, 7), (7, 4), (4, 0), (1, 2), (2, 6), (6, 5), (5, 1),
          (0, 1), (3, 2), (7, 6), (4, 5))


def _pt(xy) -> Tuple[int, int]:
    """A pixel as a tuple of Python ints (OpenCV rejects numpy ints and
    values beyond int32, which wild early-training boxes can reach)."""
    x, y = np.clip(np.nan_to_num(np.asarray(xy, float)[:2]), -1e5, 1e5)
    return int(round(x)), int(round(y))


GT_COLOR = (60, 60, 255)  # BGR red
PRED_COLOR = (60, 220, 60)  # BGR green


def draw_boxes_on_image(img: np.ndarray,
                        corners: np.ndarray,
                        lidar2img: np.ndarray,
                        color: Tuple[int, int, int],
                        thickness: int = 2) -> np.ndarray:
    """Draw (N, 8, 3) LiDAR-frame box corners projected with a (4, 4)
    ``lidar2img`` on a BGR image (in place); boxes behind the camera are
    skipped."""
    if len(corners) == 0:
        return img
    # (N, 8, 2) pixels, (N, 8) depth along the optical axis
    uvs, depths = project_points(
        np.asarray(corners, dtype=np.float64).reshape(-1, 8, 3),
        np.asarray(lidar2img, dtype=np.float64)[:3])
    for uv, depth in zip(uvs, depths):
        if (depth < 0.5).any():
            continue
        for a, b in _EDGES:
            cv2.line(img, _pt(uv[a]), _pt(uv[b]), color, thickness,
                     cv2.LINE_AA)
    return img


def draw_bev(points: Optional[np.ndarray],
             boxes: Sequence[Tuple[np.ndarray, Tuple[int, int, int]]],
             x_range: Tuple[float, float] = (0.0, 50.0),
             y_range: Tuple[float, float] = (-30.0, 30.0),
             resolution: float = 0.1) -> np.ndarray:
    """Bird's eye view: x (forward) up, y (left) to the left.

    Args:
        points: (N, >=3) LiDAR points or None.
        boxes: pairs of ((M, 8, 3) corners, BGR colour).
        x_range, y_range: metres shown.
        resolution: metres per pixel.

    Returns:
        (H, W, 3) uint8 BGR picture.
    """
    # x is up (rows), y is left (columns); rounded, as any range may be
    h, w = grid_size([x_range[0], y_range[0], 0, x_range[1], y_range[1], 1],
                     [resolution, resolution], dims=2, tolerance=None)
    canvas = np.full((h, w, 3), 20, np.uint8)

    def to_px(xy):
        row = (x_range[1] - xy[..., 0]) / resolution
        col = (y_range[1] - xy[..., 1]) / resolution
        return np.stack([col, row], -1)

    for r in range(10, int(x_range[1]) + 1, 10):  # range rings
        cv2.circle(canvas, _pt(to_px(np.zeros(2))), int(r / resolution),
                   (60, 60, 60), 1, cv2.LINE_AA)
    if points is not None and len(points):
        px = np.round(to_px(points[:, :2])).astype(int)
        ok = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (
            px[:, 1] < h)
        canvas[px[ok, 1], px[ok, 0]] = (200, 200, 200)
    for corners, color in boxes:
        for box in corners:
            quad = np.array([_pt(p) for p in to_px(box[_BOTTOM, :2])],
                            np.int32)
            cv2.polylines(canvas, [quad], True, color, 2, cv2.LINE_AA)
            front = to_px(box[[4, 7], :2].mean(0))
            centre = to_px(box[_BOTTOM, :2].mean(0))
            cv2.line(canvas, _pt(centre), _pt(front), color, 1, cv2.LINE_AA)
    return canvas


def render_prediction_panel(
        img: Optional[np.ndarray],
        points: Optional[np.ndarray],
        lidar2img: Optional[np.ndarray],
        gt_corners: np.ndarray,
        pred_corners: np.ndarray,
        title: str = '',
        bev_range=((0.0, 50.0), (-30.0, 30.0))) -> np.ndarray:
    """Image with boxes on top, BEV below; ground truth red, predictions
    green. Returns a BGR picture."""
    bev = draw_bev(points, [(gt_corners, GT_COLOR),
                            (pred_corners, PRED_COLOR)], *bev_range)
    panels = []
    if img is not None:
        img = img.copy()
        if lidar2img is not None:
            draw_boxes_on_image(img, gt_corners, lidar2img, GT_COLOR)
            draw_boxes_on_image(img, pred_corners, lidar2img, PRED_COLOR)
        panels.append(img)
    width = panels[0].shape[1] if panels else bev.shape[1]
    scale = width / bev.shape[1]
    bev = cv2.resize(
        bev, (width, int(round(bev.shape[0] * scale))),
        interpolation=cv2.INTER_NEAREST)
    panels.append(bev)
    out = np.concatenate(panels, 0)
    if title:
        cv2.putText(out, title, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (255, 255, 255), 2, cv2.LINE_AA)
    return out
