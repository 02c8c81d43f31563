"""The one geometry module: projection, FOV mask, grid size, cell centres.

Pure functions, for one camera or several. Every function that takes a
matrix accepts a single one, ``(4, 4)`` / ``(3, 4)``, or a stack of them,
``(..., 4, 4)`` / ``(..., 3, 4)`` (e.g. ``(N_cam, 3, 4)`` for a
multi-camera rig), and broadcasts the leading axes against those of the
points: ``(N, 3)`` points with ``(N_cam, 4, 4)`` matrices give
``(N_cam, N, ...)`` results. The projection functions take numpy arrays or
torch tensors and answer in the same kind (a matrix given as a numpy array
or a list next to tensor points is converted to the points' dtype and
device).

Conventions (KITTI, as in the reference ``Cc-Hy/CMKD`` and CaDDN, Reading
et al., CVPR 2021):

* ``lidar2cam`` (4, 4) = ``R0_rect @ Tr_velo_to_cam`` maps LiDAR points
  (metres) to the rectified camera; ``cam2img`` (3, 3), (3, 4) or (4, 4) is
  ``P2``; ``lidar2img = cam2img @ lidar2cam`` (padded to (4, 4)).
* ``[u' v' w'] = lidar2img @ [x y z 1]``; the pixel is
  ``(u, v) = (u' / w', v' / w')``: the true perspective division.
* A pixel (row, col) has its centre at the integer coordinate
  ``(u, v) = (col, row)``; pixel ``u`` is in an image of width ``W`` iff
  ``0 <= u < W`` (``Cc-Hy/CMKD:pcdet/datasets/kitti/kitti_dataset.py``,
  ``get_fov_flag``).
* Depth is ``w' - depth_offset``; ``depth_offset = cam2img[2, 3]`` gives the
  rectified-camera z of KITTI (the reference's ``pts_rect_depth`` of
  ``pcdet/utils/calibration_kitti.py: rect_to_img``), 0 the distance along
  the optical axis of the camera ``lidar2img`` projects into.
* A grid ``[x0, y0, z0, x1, y1, z1]`` with voxel size ``[vx, vy, vz]`` has
  ``round((x1 - x0) / vx)`` cells along x (the reference's rounding); cell
  ``i`` has its centre at ``x0 + (i + 0.5) * vx``.
"""
import math
from numbers import Real
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

Array = Union[np.ndarray, Tensor]

#: A range counts as a multiple of the voxel size when it is within this
#: many voxels of an integer (float noise: 60.16 / 0.32 = 187.99999999999997).
GRID_TOLERANCE = 1e-4


# --------------------------------------------------------------------------
# matrices
# --------------------------------------------------------------------------
def _like(mat, ref: Array) -> Array:
    """``mat`` as the kind (numpy / torch) of ``ref``; for torch, also in its
    floating dtype and on its device."""
    if isinstance(ref, Tensor):
        dtype = ref.dtype if ref.is_floating_point() else torch.float64
        return torch.as_tensor(mat, dtype=dtype, device=ref.device)
    if isinstance(mat, Tensor):
        return mat.detach().cpu().numpy()
    return np.asarray(mat)


def to_homogeneous(mat: Array) -> Array:
    """Pad a (..., 3, 3), (..., 3, 4) or (..., 4, 4) matrix to (..., 4, 4)
    with the rows / columns of the identity (numpy or torch, dtype kept;
    integer numpy input becomes float64).

    Args:
        mat: (..., 3 or 4, 3 or 4) matrix or stack of matrices.

    Returns:
        (..., 4, 4) matrix of the same kind.
    """
    if not isinstance(mat, Tensor):
        mat = np.asarray(mat)
    r, c = mat.shape[-2:]
    if r not in (3, 4) or c not in (3, 4):
        raise ValueError(f'expected a (..., 3|4, 3|4) matrix, got shape '
                         f'{tuple(mat.shape)}')
    if isinstance(mat, Tensor):
        out = torch.eye(4, dtype=mat.dtype, device=mat.device).expand(
            *mat.shape[:-2], 4, 4).clone()
    else:
        dtype = mat.dtype if np.issubdtype(mat.dtype, np.floating) \
            else np.float64
        out = np.broadcast_to(np.eye(4, dtype=dtype),
                              mat.shape[:-2] + (4, 4)).copy()
    out[..., :r, :c] = mat
    return out


def compose_lidar2img(lidar2cam: Array, cam2img: Array) -> Array:
    """``lidar2img = cam2img @ lidar2cam``, both padded to (4, 4).

    Args:
        lidar2cam: (..., 3 or 4, 4) LiDAR -> camera (KITTI: ``R0_rect @
            Tr_velo_to_cam``).
        cam2img: (..., 3 or 4, 3 or 4) camera -> image (KITTI: ``P2``;
            nuScenes: the 3x3 intrinsics).

    Returns:
        (..., 4, 4) LiDAR -> image (numpy or torch, as ``cam2img``).
    """
    c2i = to_homogeneous(cam2img)
    return c2i @ to_homogeneous(_like(lidar2cam, c2i))


#: The steps of mmdet3d's ``transformation_3d_flow`` that move points.
BEV_AUG_STEPS = ('R', 'S', 'T', 'HF', 'VF')


def bev_augmentation_matrix(flow: Sequence[str],
                            rotation: Optional[Array] = None,
                            scale: float = 1.0,
                            translation: Optional[Sequence[float]] = None
                            ) -> np.ndarray:
    """The (4, 4) float64 matrix ``A`` that mmdet3d 1.4's global point
    augmentation applied to LiDAR points, ``[p' 1] = A @ [p 1]``: the steps
    of ``flow`` in order (``results['transformation_3d_flow']``):

    * ``'R'``: ``GlobalRotScaleTrans`` rotation, ``p' = p @ rotation``
      (``results['pcd_rotation']``, the transposed (3, 3) rotation);
    * ``'S'``: its scale, ``p' = scale * p`` (``pcd_scale_factor``);
    * ``'T'``: its translation, ``p' = p + translation`` (``pcd_trans``);
    * ``'HF'`` / ``'VF'``: ``RandomFlip3D``'s BEV flips of LiDAR points,
      ``y -> -y`` (horizontal) and ``x -> -x`` (vertical).

    A camera that saw the original scene sees the augmented one through
    ``lidar2cam @ inv(A)`` (:class:`~cmkd_mmdet3d.datasets.transforms.
    BEVAugToCameras`), as CMKD-MV's ``update_img2lidar``
    (``Cc-Hy/CMKD-MV``, BEVDet's BEV augmentation).

    Raises:
        ValueError: for an unknown step, or a step without its value.
    """
    a = np.eye(4)
    for step in flow:
        m = np.eye(4)
        if step == 'R':
            if rotation is None:
                raise ValueError("flow step 'R' needs pcd_rotation")
            r = np.asarray(rotation.detach().cpu() if isinstance(
                rotation, Tensor) else rotation, dtype=np.float64)
            if r.shape != (3, 3):
                raise ValueError(f'pcd_rotation must be 3x3, got {r.shape}')
            m[:3, :3] = r.T
        elif step == 'S':
            m[:3, :3] *= float(scale)
        elif step == 'T':
            if translation is None:
                raise ValueError("flow step 'T' needs pcd_trans")
            m[:3, 3] = np.asarray(translation, dtype=np.float64).reshape(3)
        elif step == 'HF':
            m[1, 1] = -1
        elif step == 'VF':
            m[0, 0] = -1
        else:
            raise ValueError(f'unknown transformation_3d_flow step {step!r}'
                             f' (known: {BEV_AUG_STEPS})')
        a = m @ a
    return a


def check_calibration(lidar2cam, cam2img,
                      where: str = '') -> Tuple[np.ndarray, np.ndarray]:
    """Return float64 (4, 4) lidar2cam and (3, 4) cam2img (a 3x3 one padded
    with a zero column) of one camera, or
    raise a ValueError naming the bad matrix (and ``where``, e.g. the
    file): wrong shape, non-finite entries or a singular 3x3 part."""
    l2c = np.asarray(lidar2cam, dtype=np.float64)
    c2i = np.asarray(cam2img, dtype=np.float64)
    at = f' of {where}' if where else ''
    if l2c.shape != (4, 4):
        raise ValueError(f'lidar2cam{at} must be 4x4, got shape {l2c.shape}')
    if c2i.shape == (3, 3):        # nuScenes / Waymo intrinsics
        c2i = np.concatenate([c2i, np.zeros((3, 1))], 1)
    if c2i.shape not in ((3, 4), (4, 4)):
        raise ValueError(f'cam2img{at} must be 3x3, 3x4 or 4x4, got shape '
                         f'{c2i.shape}')
    if not (np.isfinite(l2c).all() and np.isfinite(c2i).all()):
        raise ValueError(f'calibration{at} has non-finite entries')
    if abs(np.linalg.det(c2i[:3, :3])) < 1e-9:
        raise ValueError(f'cam2img{at} has a singular 3x3 part: {c2i[:3]}')
    if abs(np.linalg.det(l2c[:3, :3])) < 1e-9:
        raise ValueError(f'lidar2cam{at} has a singular 3x3 part: '
                         f'{l2c[:3, :3]}')
    return l2c, c2i[:3]


# --------------------------------------------------------------------------
# points
# --------------------------------------------------------------------------
def _mT(x: Array) -> Array:
    return x.transpose(-1, -2) if isinstance(x, Tensor) else \
        np.swapaxes(x, -1, -2)


def transform_points(points: Array, mat: Array) -> Array:
    """Apply an affine (..., 3 or 4, 4) transform to (..., N, >=3) points.

    Args:
        points: (..., N, >=3) points (only x, y, z are read), metres.
        mat: (..., 3 or 4, 4) matrix; rows 0-2 are used.

    Returns:
        (..., N, 3) ``mat[:3, :3] @ p + mat[:3, 3]`` for every point, the
        leading axes broadcast.
    """
    m = _like(mat, points)
    if not isinstance(points, Tensor):
        points = np.asarray(points)
    return points[..., :3] @ _mT(m[..., :3, :3]) + m[..., None, :3, 3]


def project_points(points: Array,
                   lidar2img: Array,
                   depth_offset: Union[float, Array] = 0.0,
                   min_w: Optional[float] = None) -> Tuple[Array, Array]:
    """Project points into the image: ``[u' v' w'] = lidar2img @ [x y z 1]``,
    ``uv = (u' / w', v' / w')``.

    Args:
        points: (..., N, >=3) points in the frame ``lidar2img`` starts from
            (only x, y, z are read), metres.
        lidar2img: (..., 3 or 4, 4) projection (e.g. ``cam2img @
            lidar2cam``, or ``P2`` alone for camera-frame points); a stack
            (N_cam, 4, 4) projects (N, 3) points into every camera.
        depth_offset: subtracted from ``w'`` to give the depth; a number or
            (...,) one per camera. ``cam2img[..., 2, 3]`` gives KITTI's
            rectified-camera z (what the reference calls depth).
        min_w: when given, ``w'`` is clamped to ``>= min_w`` before the
            division (points behind the camera then land far out on their
            own side, as the KITTI 2D-box export wants); the depth is not
            clamped.

    Returns:
        tuple: ``uv`` (..., N, 2) pixels and ``depth`` (..., N) metres, numpy
        or torch as ``points``. Points with ``w' = 0`` give non-finite
        ``uv`` (no warning).
    """
    if not isinstance(points, Tensor):
        points = np.asarray(points)
    m = _like(lidar2img, points)
    if m.shape[-2] not in (3, 4) or m.shape[-1] != 4:
        raise ValueError(f'lidar2img must be (..., 3 or 4, 4), got shape '
                         f'{tuple(m.shape)}')
    uvw = transform_points(points, m)
    w = uvw[..., 2:3]
    div = w if min_w is None else (
        w.clamp(min=min_w) if isinstance(w, Tensor) else np.clip(
            w, min_w, None))
    if isinstance(points, Tensor):
        uv = uvw[..., :2] / div
    else:
        with np.errstate(divide='ignore', invalid='ignore'):
            uv = uvw[..., :2] / div
    if isinstance(depth_offset, Real):  # a plain number keeps the dtype
        return uv, uvw[..., 2] - depth_offset
    off = _like(depth_offset, points)
    if off.ndim:
        off = off[..., None]
    return uv, uvw[..., 2] - off


def project_to_image(xyz, lidar2cam, cam2img) -> np.ndarray:
    """LiDAR points (N, 3) of one KITTI camera -> (N, 3) u, v and rectified
    depth (numpy float64; the calibration is checked by
    :func:`check_calibration`)."""
    l2c, c2i = check_calibration(lidar2cam, cam2img)
    uv, depth = project_points(
        np.asarray(xyz, dtype=np.float64), compose_lidar2img(l2c, c2i),
        depth_offset=c2i[2, 3])
    return np.concatenate([uv, depth[:, None]], 1)


def unproject_from_image(uvd, lidar2cam, cam2img) -> np.ndarray:
    """Inverse of :func:`project_to_image`: (N, 3) u, v, rectified depth ->
    LiDAR (N, 3), numpy float64."""
    l2c, c2i = check_calibration(lidar2cam, cam2img)
    uvd = np.asarray(uvd, dtype=np.float64)
    w = uvd[:, 2] + c2i[2, 3]
    rhs = np.stack([uvd[:, 0] * w, uvd[:, 1] * w, w], 1) - c2i[:, 3]
    cam = np.linalg.solve(c2i[:, :3], rhs.T).T
    return (cam - l2c[:3, 3]) @ np.linalg.inv(l2c[:3, :3]).T


def fov_mask(uv: Array, depth: Array, image_shape) -> Array:
    """Points in the camera's field of view: ``depth >= 0``,
    ``0 <= u < W`` and ``0 <= v < H`` (the reference's ``get_fov_flag``,
    ``Cc-Hy/CMKD:pcdet/datasets/kitti/kitti_dataset.py``). NaN is outside.

    Args:
        uv: (..., N, 2) pixels from :func:`project_points`.
        depth: (..., N) depths, metres.
        image_shape: ``(H, W[, C])`` of every camera, or an (N_cam, 2)
            array / tensor of per-camera ``(H, W)``.

    Returns:
        (..., N) bool, numpy or torch as ``uv``.
    """
    if isinstance(image_shape, (np.ndarray, Tensor)) and image_shape.ndim > 1:
        hw = _like(image_shape, uv)
        h, w = hw[..., 0, None], hw[..., 1, None]
    else:
        h, w = image_shape[0], image_shape[1]
    u, v = uv[..., 0], uv[..., 1]
    if isinstance(uv, Tensor):
        return (depth >= 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    with np.errstate(invalid='ignore'):
        return (np.asarray(depth) >= 0) & (u >= 0) & (u < w) & (v >= 0) & \
            (v < h)


def points_in_fov(xyz, lidar2cam, cam2img, image_shape) -> np.ndarray:
    """(N,) bool: which LiDAR points (N, >=3) of one KITTI camera
    :func:`fov_mask` keeps, with the rectified depth (numpy)."""
    uvd = project_to_image(np.asarray(xyz)[:, :3], lidar2cam, cam2img)
    return fov_mask(uvd[:, :2], uvd[:, 2], image_shape)


def box_foreground_mask(corners: Tensor, lidar2img: Tensor,
                        image_shape: Sequence[int],
                        feat_shape: Sequence[int],
                        min_depth: float = 0.1) -> Tensor:
    """Feature cells covered by the image boxes of 3D boxes: CaDDN's
    foreground mask (Reading et al., CVPR 2021, Sec. 3.4; ``Balancer.
    compute_fg_mask`` of ``pcdet/models/backbones_3d/ffe/ddn_loss/
    balancer.py`` in ``TRAILab/CaDDN``), which fills the 2D label boxes
    divided by the stride, ``floor`` on the top-left and ``ceil`` on the
    bottom-right corner. Here the 2D box of an object is the bounding box of
    its 8 projected corners (what KITTI's 2D labels approximate), so that
    the mask follows the image augmentations through ``lidar2img``.

    Args:
        corners (Tensor): (N, 8, 3) box corners in the frame ``lidar2img``
            starts from, metres.
        lidar2img (Tensor): (3 or 4, 4) projection.
        image_shape (tuple[int]): (H, W) pixels of the (padded) image.
        feat_shape (tuple[int]): (Hf, Wf) of the feature map; a cell spans
            H / Hf by W / Wf pixels.
        min_depth (float): corners nearer than this (metres along the
            optical axis, behind the camera included) are clamped to it,
            so a box that straddles the image plane still covers its side
            of the image. A box with every corner nearer is left out.

    Returns:
        Tensor: (Hf, Wf) bool, True on the cells of at least one box.
    """
    hf, wf = int(feat_shape[0]), int(feat_shape[1])
    mask = torch.zeros(hf, wf, dtype=torch.bool, device=corners.device)
    for _, (y0, y1, x0, x1), _ in _box_cells(corners, lidar2img, image_shape,
                                             (hf, wf), min_depth):
        mask[y0:y1, x0:x1] = True
    return mask


def _box_cells(corners: Tensor, lidar2img: Tensor,
               image_shape: Sequence[int], feat_shape: Sequence[int],
               min_depth: float):
    """The feature cells of each box's image box, as
    :func:`box_foreground_mask` fills them: yields ``(i, (y0, y1, x0, x1),
    uv)`` per box with a corner in front of the camera, ``uv`` (8, 2) its
    projected corners (pixels)."""
    if corners.numel() == 0:
        return
    if corners.dim() != 3 or corners.shape[1:] != (8, 3):
        raise ValueError(f'corners must be (N, 8, 3), got '
                         f'{tuple(corners.shape)}')
    hf, wf = int(feat_shape[0]), int(feat_shape[1])
    uv, depth = project_points(corners, lidar2img, min_w=min_depth)
    sy, sx = image_shape[0] / hf, image_shape[1] / wf
    visible = (depth > min_depth).any(1)
    lo, hi = uv.amin(1), uv.amax(1)
    x0 = (lo[:, 0] / sx).floor().clamp(0, wf).long()
    y0 = (lo[:, 1] / sy).floor().clamp(0, hf).long()
    x1 = (hi[:, 0] / sx).ceil().clamp(0, wf).long()
    y1 = (hi[:, 1] / sy).ceil().clamp(0, hf).long()
    for i in torch.nonzero(visible).flatten().tolist():
        yield i, (y0[i], y1[i], x0[i], x1[i]), uv[i]


def box_instance_maps(corners: Tensor, lidar2img: Tensor,
                      image_shape: Sequence[int], feat_shape: Sequence[int],
                      min_depth: float = 0.1
                      ) -> Tuple[Tensor, Tensor, Tensor]:
    """Per feature cell, the image-box height and the centre depth of the
    nearest 3D box whose image box covers it: the targets of an object's
    geometric depth, ``depth = f_y * s / height`` (the 2D-height / 3D-size
    relation of MonoFlex, Zhang et al., CVPR 2021, and GUPNet, Lu et al.,
    ICCV 2021, made dense).

    The cells are those of :func:`box_foreground_mask` (the same image box:
    the bounding box of the 8 projected corners, ``floor`` / ``ceil`` at the
    stride); where boxes overlap, the one with the nearest centre wins, as
    the nearer object hides the other.

    Args:
        corners (Tensor): (N, 8, 3) box corners in the frame ``lidar2img``
            starts from, metres.
        lidar2img (Tensor): (3 or 4, 4) projection.
        image_shape (tuple[int]): (H, W) pixels of the (padded) image.
        feat_shape (tuple[int]): (Hf, Wf) of the feature map.
        min_depth (float): as in :func:`box_foreground_mask`.

    Returns:
        tuple[Tensor]: ``mask`` (Hf, Wf) bool (== :func:`box_foreground_
        mask`), ``height`` (Hf, Wf) the image box's height in pixels with
        the corners in front of the camera clamped to ``min_depth``, and
        ``depth`` (Hf, Wf) the box centre's depth along the optical axis
        (``w'``), metres; both 0 outside ``mask``.
    """
    hf, wf = int(feat_shape[0]), int(feat_shape[1])
    mask = torch.zeros(hf, wf, dtype=torch.bool, device=corners.device)
    height = torch.zeros(hf, wf, dtype=corners.dtype, device=corners.device)
    depth = torch.zeros_like(height)
    cells = list(_box_cells(corners, lidar2img, image_shape, (hf, wf),
                            min_depth))
    if not cells:
        return mask, height, depth
    _, centre = project_points(corners.mean(1, keepdim=True), lidar2img)
    centre = centre[:, 0]
    # farthest first, so that the nearest box is written last
    for i, (y0, y1, x0, x1), uv in sorted(
            cells, key=lambda c: -float(centre[c[0]])):
        mask[y0:y1, x0:x1] = True
        height[y0:y1, x0:x1] = uv[:, 1].max() - uv[:, 1].min()
        depth[y0:y1, x0:x1] = centre[i]
    return mask, height, depth


# --------------------------------------------------------------------------
# grids
# --------------------------------------------------------------------------
def _where(owner: str) -> str:
    return f'{owner}: ' if owner else ''


def grid_size(point_cloud_range: Sequence[float],
              voxel_size: Sequence[float],
              dims: int = 3,
              tolerance: Optional[float] = GRID_TOLERANCE,
              owner: str = '',
              range_key: str = 'point_cloud_range',
              voxel_key: str = 'voxel_size') -> Tuple[int, ...]:
    """Cells of a grid per axis, ``round((max - min) / voxel)``.

    Args:
        point_cloud_range (Sequence[float]): ``[x0, y0, z0, x1, y1, z1]``,
            metres.
        voxel_size (Sequence[float]): ``[vx, vy[, vz]]`` (at least
            ``dims`` values), metres.
        dims (int): Axes to size: 3 (X, Y, Z) or 2 (X, Y; e.g. a BEV map or
            a pillar grid whose z voxel spans the range).
        tolerance (float | None): An extent must be within this many voxels
            of a whole number (default :data:`GRID_TOLERANCE`); None rounds
            like the reference without checking (for a picture's canvas).
        owner, range_key, voxel_key (str): Named in the errors (e.g.
            ``'DepthLiftNeck'``, the config keys).

    Returns:
        tuple[int]: ``(X, Y[, Z])``.

    Raises:
        ValueError: for a non-positive or non-finite voxel size, a range
            with ``min >= max`` and, with a tolerance, an extent that is not
            a whole number of voxels; the message names the key, the axis
            and the values.
    """
    where = _where(owner)
    pcr, vs = list(point_cloud_range), list(voxel_size)
    if len(pcr) != 6:
        raise ValueError(f'{where}{range_key} needs 6 values [x0, y0, z0, '
                         f'x1, y1, z1], got {point_cloud_range}')
    if len(vs) < dims or len(vs) > 3:
        raise ValueError(f'{where}{voxel_key} needs 3 values [vx, vy, vz], '
                         f'got {voxel_size}')
    sizes = []
    for i in range(dims):
        axis = 'xyz'[i]
        v, lo, hi = vs[i], pcr[i], pcr[i + 3]
        if isinstance(v, bool) or not isinstance(v, Real) or \
                not math.isfinite(v) or v <= 0:
            raise ValueError(f'{where}{voxel_key}[{i}] ({axis}) must be a '
                             f'positive number of metres, got {v!r} in '
                             f'{voxel_key}={vs}')
        if not all(isinstance(x, Real) and math.isfinite(x)
                   for x in (lo, hi)) or not lo < hi:
            raise ValueError(f'{where}{range_key} {axis} range must be finite '
                             f'with min < max, got {lo!r} .. {hi!r} in '
                             f'{range_key}={pcr}')
        n = (hi - lo) / v
        if tolerance is not None and abs(n - round(n)) > tolerance:
            raise ValueError(
                f'{where}{range_key} {axis} extent {hi - lo:g} m ({lo} .. '
                f'{hi}) is not a multiple of {voxel_key}[{i}] = {v} '
                f'({n:.4f} voxels); change {range_key} or {voxel_key}')
        sizes.append(int(round(n)))
    return tuple(sizes)


def cell_centers(point_cloud_range: Sequence[float],
                 voxel_size: Sequence[float],
                 shape: Optional[Sequence[int]] = None,
                 dims: int = 3,
                 device=None,
                 dtype=None) -> Tuple[Array, ...]:
    """Centres of the cells along each axis, ``min + (i + 0.5) * voxel``.

    Args:
        point_cloud_range (Sequence[float]): ``[x0, y0, z0, x1, y1, z1]``,
            metres.
        voxel_size (Sequence[float]): Cell size per axis, metres (a BEV map
            at stride s: ``voxel_size * s``).
        shape (Sequence[int] | None): Cells ``(X, Y[, Z])``; None:
            :func:`grid_size` rounded like the reference, unchecked (give it
            for a map whose strided size is ceil-rounded).
        dims (int): 3 (x, y, z) or 2 (x, y).
        device: None for numpy float64 arrays; a torch device (or 'cpu')
            for tensors.
        dtype: torch dtype of the tensors (default float32).

    Returns:
        tuple: ``dims`` 1-D arrays, centres along x (X,), y (Y,)[, z (Z,)]
        in metres.
    """
    if shape is None:
        shape = grid_size(point_cloud_range, voxel_size, dims, tolerance=None)
    out = []
    for i in range(dims):
        c = point_cloud_range[i] + (np.arange(shape[i], dtype=np.float64) +
                                    0.5) * float(voxel_size[i])
        if device is not None:
            c = torch.as_tensor(c, dtype=dtype or torch.float32,
                                device=device)
        out.append(c)
    return tuple(out)


def bev_cell_centers(point_cloud_range: Sequence[float],
                     voxel_size: Sequence[float],
                     shape: Optional[Sequence[int]] = None,
                     device=None,
                     dtype=None) -> Tuple[Array, Array]:
    """BEV cell centres ``(xs (X,), ys (Y,))``, metres:
    :func:`cell_centers` with ``dims=2``; ``shape`` is ``(X, Y)``.

    The cell ``[iy, ix]`` of a (Y, X) BEV map is centred at
    ``(xs[ix], ys[iy])``.
    """
    return cell_centers(point_cloud_range, voxel_size, shape, 2, device,
                        dtype)
