"""Camera-geometry numerics of the student's data pipeline (numpy): the
image-space flip, sparse depth maps and their pooling.

Projection, the FOV mask and the calibration check live in
:mod:`cmkd_mmdet3d.structures.geometry` (conventions there: KITTI
``lidar2cam`` (4, 4) = R0_rect @ Tr_velo_to_cam, ``cam2img`` (3 or 4, 4) =
P2, pixel centres at integer (u, v) = (col, row), depth = rectified-camera z
``w' - P2[2, 3]`` as the reference's ``pcdet/utils/calibration_kitti.py:
rect_to_img``); the names below are re-exported from there.
"""
from typing import Sequence

import numpy as np

from ...structures.geometry import (check_calibration, project_to_image,
                                    transform_points, unproject_from_image)


def mirror_through_image(xyz: np.ndarray, lidar2cam: np.ndarray,
                         cam2img: np.ndarray, width: int,
                         align: str = 'caddn',
                         projection: str = 'geometric') -> np.ndarray:
    """Mirror LiDAR points through the image: project, replace u by
    ``W - u`` and back-project with the same depth and calibration.

    Args:
        xyz (np.ndarray): (N, 3) LiDAR points.
        lidar2cam (np.ndarray): (4, 4) R0_rect @ Tr_velo_to_cam.
        cam2img (np.ndarray): (3 or 4, 4) P2.
        width (int): image width W.
        align (str): ``'caddn'`` keeps the reference's ``W - u`` (a
            half-pixel shift against the flipped image, kept for fidelity);
            ``'exact'`` uses ``W - 1 - u``, which maps a pixel centre onto
            the centre of its mirror pixel in ``img[:, ::-1]``.
        projection (str): ``'geometric'`` (default) divides by
            ``w' = z_rect + P2[2, 3]``, the true perspective division of
            ``P2 @ [x y z 1]``, so mirrored points project exactly onto the
            mirrored pixels. ``'reference'`` reproduces OpenPCDet's
            ``calibration_kitti.rect_to_img`` / ``img_to_rect`` used by
            ``Cc-Hy/CMKD``'s ``random_image_pc_flip``, which divide by the
            rectified ``z`` instead; the two pairs are each self-consistent
            and differ, for a mirrored point, by a constant
            ``W * P2[2, 3] / f_u`` along the camera x axis (KITTI P2:
            1242 * 2.7e-3 / 721.5 = 4.7 mm).

    Returns:
        np.ndarray: (N, 3) mirrored LiDAR points.
    """
    if align not in ('caddn', 'exact'):
        raise ValueError(f"align must be 'caddn' or 'exact', got {align!r}")
    if projection not in ('geometric', 'reference'):
        raise ValueError("projection must be 'geometric' or 'reference', "
                         f'got {projection!r}')
    off = width if align == 'caddn' else width - 1
    if projection == 'geometric':
        uvd = project_to_image(xyz, lidar2cam, cam2img)
        uvd[:, 0] = off - uvd[:, 0]
        return unproject_from_image(uvd, lidar2cam, cam2img)
    # the reference's pair: u = (P2 @ [x y z 1])_0 / z_rect, and back
    l2c, c2i = check_calibration(lidar2cam, cam2img)
    uvw = transform_points(transform_points(xyz, l2c), c2i)
    d = uvw[:, 2] - c2i[2, 3]
    with np.errstate(divide='ignore', invalid='ignore'):
        u, v = off - uvw[:, 0] / d, uvw[:, 1] / d
    rhs = np.stack([u * d, v * d, d + c2i[2, 3]], 1) - c2i[:, 3]
    cam = np.linalg.solve(c2i[:, :3], rhs.T).T
    return (cam - l2c[:3, 3]) @ np.linalg.inv(l2c[:3, :3]).T


def depth_map_from_points(xyz: np.ndarray, lidar2cam: np.ndarray,
                          cam2img: np.ndarray,
                          img_shape: Sequence[int]) -> np.ndarray:
    """Sparse (H, W) float32 depth map (metres, 0 = no point) of the points
    that fall on a pixel (nearest pixel centre); the closest point wins."""
    h, w = img_shape[:2]
    uvd = project_to_image(xyz, lidar2cam, cam2img)
    col, row = np.round(uvd[:, 0]), np.round(uvd[:, 1])
    with np.errstate(invalid='ignore'):
        ok = (uvd[:, 2] > 0) & (col >= 0) & (col < w) & (row >= 0) & \
            (row < h)
    col, row, d = col[ok].astype(np.int64), row[ok].astype(np.int64), \
        uvd[ok, 2]
    out = np.full(h * w, np.inf)
    np.minimum.at(out, row * w + col, d)
    out[np.isinf(out)] = 0
    return out.reshape(h, w).astype(np.float32)


def sparse_avg_pool(depth: np.ndarray, stride: int) -> np.ndarray:
    """Mean of the valid (finite, > 0) pixels in every ``stride`` x
    ``stride`` block; blocks without one are 0. (H, W) ->
    (ceil(H / s), ceil(W / s)), float32 (the depth targets at the
    feature-map resolution: CaDDN, Reading et al., CVPR 2021, depth
    distribution supervision from projected LiDAR)."""
    if depth.ndim != 2:
        raise ValueError(f'depth map must be (H, W), got {depth.shape}')
    h, w = depth.shape
    hs, ws = -(-h // stride), -(-w // stride)
    pad = np.zeros((hs * stride, ws * stride), np.float64)
    pad[:h, :w] = depth
    valid = np.isfinite(pad) & (pad > 0)
    pad[~valid] = 0
    blocks = (hs, stride, ws, stride)
    total = pad.reshape(blocks).sum((1, 3))
    count = valid.reshape(blocks).sum((1, 3))
    out = np.where(count > 0, total / np.maximum(count, 1), 0)
    return out.astype(np.float32)


def scale_intrinsics(cam2img: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """``cam2img`` (3 or 4, 3 or 4) of an image resized by (sx, sy) with
    ``cv2.resize``, which aligns pixel centres: u' = sx (u + 0.5) - 0.5,
    hence rows 0 and 1 become s * row + (s - 1) / 2 * row 2 (float64)."""
    c2i = np.array(cam2img, dtype=np.float64)
    c2i[0] = sx * c2i[0] + (sx - 1) / 2 * c2i[2]
    c2i[1] = sy * c2i[1] + (sy - 1) / 2 * c2i[2]
    return c2i


def crop_intrinsics(cam2img: np.ndarray, left: float,
                    top: float) -> np.ndarray:
    """``cam2img`` (3 or 4, 3 or 4) of an image cropped at (left, top):
    u' = u - left, v' = v - top, hence rows 0 and 1 lose left / top times
    row 2 (float64)."""
    c2i = np.array(cam2img, dtype=np.float64)
    c2i[0] -= left * c2i[2]
    c2i[1] -= top * c2i[2]
    return c2i
