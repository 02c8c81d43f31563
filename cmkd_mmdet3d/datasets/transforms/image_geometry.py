"""Camera-geometry numerics of the student's data pipeline (numpy): the
image-space flip, sparse depth maps and their pooling, and the pixel maps
of resizing, cropping and BEVDet's image-view augmentation with the
``cam2img`` that goes with them.

Projection, the FOV mask and the calibration check live in
:mod:`cmkd_mmdet3d.structures.geometry` (conventions there: KITTI
``lidar2cam`` (4, 4) = R0_rect @ Tr_velo_to_cam, ``cam2img`` (3 or 4, 4) =
P2, pixel centres at integer (u, v) = (col, row), depth = rectified-camera z
``w' - P2[2, 3]`` as the reference's ``pcdet/utils/calibration_kitti.py:
rect_to_img``); the names below are re-exported from there.
"""
import math
from typing import Sequence, Tuple

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


def warp_intrinsics(cam2img: np.ndarray, pixel_map: np.ndarray) -> np.ndarray:
    """``cam2img`` (3 or 4, 3 or 4) of an image warped by the affine
    ``pixel_map`` (3, 3), which takes a pixel (u, v, 1) of the image to its
    pixel in the warped one (centres at integers): rows 0-2 become
    ``pixel_map @ rows 0-2``, so that every point projects onto the pixel
    its content moved to; row 2, hence the depth, is unchanged (float64)."""
    m = np.asarray(pixel_map, dtype=np.float64)
    if m.shape != (3, 3) or not np.allclose(m[2], [0, 0, 1]):
        raise ValueError(f'pixel_map must be a (3, 3) affine map with last '
                         f'row [0, 0, 1], got {m.tolist()}')
    c2i = np.array(cam2img, dtype=np.float64)
    c2i[:3] = m @ c2i[:3]
    return c2i


def resize_pixel_map(sx: float, sy: float) -> np.ndarray:
    """(3, 3) pixel map of ``cv2.resize`` by (sx, sy), which aligns pixel
    centres: u' = sx (u + 0.5) - 0.5."""
    return np.array([[sx, 0, (sx - 1) / 2], [0, sy, (sy - 1) / 2],
                     [0, 0, 1]], dtype=np.float64)


def scale_intrinsics(cam2img: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """``cam2img`` (3 or 4, 3 or 4) of an image resized by (sx, sy) with
    ``cv2.resize`` (:func:`resize_pixel_map`): rows 0 and 1 become
    s * row + (s - 1) / 2 * row 2 (float64)."""
    return warp_intrinsics(cam2img, resize_pixel_map(sx, sy))


def crop_pixel_map(left: float, top: float) -> np.ndarray:
    """(3, 3) pixel map of a crop at (left, top): u' = u - left,
    v' = v - top."""
    return np.array([[1, 0, -left], [0, 1, -top], [0, 0, 1]],
                    dtype=np.float64)


def crop_intrinsics(cam2img: np.ndarray, left: float,
                    top: float) -> np.ndarray:
    """``cam2img`` (3 or 4, 3 or 4) of an image cropped at (left, top)
    (:func:`crop_pixel_map`): rows 0 and 1 lose left / top times row 2
    (float64)."""
    return warp_intrinsics(cam2img, crop_pixel_map(left, top))


def crop_flip_rotate_pixel_map(crop_offset: Tuple[float, float],
                               out_size: Tuple[int, int], flip: bool,
                               rotate: float) -> np.ndarray:
    """(3, 3) pixel map of BEVDet's image-view augmentation after its
    resize (``LoadMultiViewImageFromFiles_BEVDet.img_transform`` of
    ``Cc-Hy/CMKD-MV:mmdet3d/datasets/pipelines/loading.py``, in PIL's
    corner coordinates x = u + 0.5): crop the ``out_size`` (H, W) window
    at ``crop_offset`` (left, top), mirror it left-right (x -> W - x) when
    ``flip``, then rotate it by ``rotate`` degrees counter-clockwise on
    screen about its centre (W / 2, H / 2), as ``PIL.Image.rotate``.

    Returns:
        np.ndarray: (3, 3) float64 map of pixel centres (u, v, 1) of the
        resized image to the output's, for ``cv2.warpAffine`` and
        :func:`warp_intrinsics`.
    """
    h, w = out_size
    m = crop_pixel_map(*crop_offset)
    if flip:
        m = np.array([[-1, 0, w], [0, 1, 0], [0, 0, 1]]) @ m
    a = math.radians(rotate)
    c, s = math.cos(a), math.sin(a)
    centre = np.array([w / 2, h / 2])
    rot = np.eye(3)
    rot[:2, :2] = [[c, s], [-s, c]]          # y down: counter-clockwise
    rot[:2, 2] = centre - rot[:2, :2] @ centre
    m = rot @ m
    to_corner = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    return np.linalg.inv(to_corner) @ m @ to_corner


def sample_bevdet_view_aug(img_size: Tuple[int, int],
                           out_size: Tuple[int, int],
                           resize: Tuple[float, float] = (0.0, 0.0),
                           rot: Tuple[float, float] = (0.0, 0.0),
                           flip: bool = False,
                           crop_h: Tuple[float, float] = (0.0, 0.0),
                           test_mode: bool = False,
                           resize_test: float = 0.0) -> dict:
    """Draw one view's BEVDet augmentation as CMKD-MV does
    (``sample_augmentation`` of ``Cc-Hy/CMKD-MV:mmdet3d/datasets/pipelines/
    loading.py``; ``np.random``, so mmengine's seed fixes it).

    Training: the scale ``W_out / W + U(resize)``, the resized size
    ``(int(W * scale), int(H * scale))``, a window whose bottom lies
    ``U(crop_h)`` of the resized height above the bottom and whose left is
    ``U(0, max(0, W_res - W_out))``, a left-right flip with probability 0.5
    when ``flip``, and a rotation of ``U(rot)`` degrees. Test
    (``test_mode``): the scale ``W_out / W + resize_test``, the mean
    ``crop_h``, the window centred left-right, no flip, no rotation.

    Args:
        img_size (tuple): (H, W) of the view, pixels.
        out_size (tuple): (H_out, W_out), pixels.

    Returns:
        dict: ``scale``, ``resized`` (W_res, H_res), ``crop_offset`` (left,
        top; negative or beyond the resized image where the window leaves
        it: filled with 0), ``flip`` (bool) and ``rotate`` (degrees).
    """
    h, w = img_size
    fh, fw = out_size
    if test_mode:
        scale = fw / w + resize_test
    else:
        scale = fw / w + np.random.uniform(*resize)
    nw, nh = int(w * scale), int(h * scale)
    if nw < 1 or nh < 1:
        raise ValueError(f'a {h}x{w} view scaled by {scale:.4f} has no '
                         'pixels left')
    if test_mode:
        top = int((1 - np.mean(crop_h)) * nh) - fh
        left = int(max(0, nw - fw) / 2)
        do_flip, angle = False, 0.0
    else:
        top = int((1 - np.random.uniform(*crop_h)) * nh) - fh
        left = int(np.random.uniform(0, max(0, nw - fw)))
        do_flip = bool(flip and np.random.choice([0, 1]))
        angle = float(np.random.uniform(*rot))
    return dict(scale=float(scale), resized=(nw, nh), crop_offset=(left, top),
                flip=do_flip, rotate=angle)
