"""Frustum-to-voxel lift of CaDDN / CMKD without materialising the frustum.

The reference builds frustum features ``F[b, c, d, h, w] = P[b, d, h, w] *
X[b, c, h, w]`` (B x 64 x 120 x 47 x 156 floats on KITTI) and samples them at
every voxel centre with a trilinear ``grid_sample``. Trilinear interpolation
of that product factorises: for each of the four (h, w) corners of a sample,

    sum_d w_d P[d, h, w] * X[:, h, w] = (sum_d w_d P[d, h, w]) * X[:, h, w],

so each voxel needs four gathers of the C-channel feature vector, weighted by
depth-interpolated probabilities. Only voxels whose sample lies inside the
frustum are touched. Autograd through these gathers gives exactly the
reference's gradients for both inputs.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from ...structures.geometry import (cell_centers, compose_lidar2img,
                                    grid_size, project_points,
                                    transform_points)
from .depth_bins import bin_depths

ALIGN_MODES = ('caddn', 'exact')


def voxel_centers(point_cloud_range: Sequence[float],
                  voxel_size: Sequence[float],
                  device=None) -> Tuple[Tensor, Tuple[int, int, int]]:
    """LiDAR-frame voxel centres in (Z, Y, X) order, (Z * Y * X, 3), and the
    grid size (X, Y, Z) (rounded like the reference, unchecked:
    :func:`~cmkd_mmdet3d.structures.geometry.grid_size` with
    ``tolerance=None``; the neck checks the grid when it is built)."""
    nx, ny, nz = grid_size(point_cloud_range, voxel_size, tolerance=None)
    xs, ys, zs = cell_centers(point_cloud_range, voxel_size, (nx, ny, nz),
                              device='cpu', dtype=torch.float64)
    z, y, x = torch.meshgrid(zs, ys, xs, indexing='ij')
    pts = torch.stack([x, y, z], -1).reshape(-1, 3)
    return pts.to(device=device, dtype=torch.float32), (nx, ny, nz)


def _check_inputs(depth_probs, feats, lidar2cam, cam2img, img_shape):
    if depth_probs.dim() != 4 or feats.dim() != 4:
        raise ValueError(f'depth_probs must be (B, D, Hf, Wf) and feats '
                         f'(B, C, Hf, Wf), got {tuple(depth_probs.shape)} and '
                         f'{tuple(feats.shape)}')
    b, _, hf, wf = depth_probs.shape
    if feats.shape[0] != b or tuple(feats.shape[2:]) != (hf, wf):
        raise ValueError(f'feats {tuple(feats.shape)} do not match '
                         f'depth_probs {tuple(depth_probs.shape)}')
    if tuple(lidar2cam.shape) != (b, 4, 4):
        raise ValueError(f'lidar2cam must be ({b}, 4, 4), got '
                         f'{tuple(lidar2cam.shape)}')
    if cam2img.dim() != 3 or cam2img.shape[0] != b or \
            cam2img.shape[1] not in (3, 4) or cam2img.shape[2] != 4:
        raise ValueError(f'cam2img must be ({b}, 3 or 4, 4), got '
                         f'{tuple(cam2img.shape)}')
    h, w = img_shape
    if h < hf or w < wf:
        raise ValueError(f'image {h}x{w} is smaller than the feature map '
                         f'{hf}x{wf}')


def _project(points: Tensor, lidar2cam: Tensor,
             cam2img: Tensor) -> Tuple[Tensor, Tensor]:
    """Pixels (B, P, 2) and rectified-camera depth (B, P) of the LiDAR
    points (P, 3) in each sample's camera, float32: first into the camera
    with ``lidar2cam`` (B, 4, 4), then projected with ``cam2img`` (B, 3 or
    4, 4), the depth offset by ``cam2img[:, 2, 3]`` (P2's translation of
    the third row)."""
    cam = transform_points(points.float(), lidar2cam.float())  # (B, P, 3)
    return project_points(cam, cam2img[:, :3].float(),
                          depth_offset=cam2img[:, 2, 3].float())


def sample_coordinates(lidar2cam: Tensor, cam2img: Tensor, points: Tensor,
                       img_shape: Tuple[int, int], feat_shape: Tuple[int, int],
                       num_bins: int, depth_min: float, depth_max: float,
                       mode: str, align: str) -> Tensor:
    """Continuous (x, y, depth-slice) sample positions in feature-map index
    units for every point, (B, P, 3); non-finite where undefined.

    ``caddn``: the reference's normalisation by (size - 1) and (D - 1) read
    back by ``grid_sample(align_corners=False)``:
    ``ix = u * Wf / (W - 1) - 0.5``, ``iz = k * D / (D - 1) - 0.5``.
    ``exact``: pixel centres at integer coordinates, a cell of stride s
    covers s pixels, bin i covers [i, i + 1): ``ix = (u + 0.5) / s - 0.5``,
    ``iz = k - 0.5``, with s = round(W / Wf) (the feature map is the image
    at stride s, ceil-rounded, so padding to a multiple of s is not needed).
    """
    h, w = img_shape
    hf, wf = feat_shape
    with torch.no_grad():
        uv, depth = _project(points, lidar2cam, cam2img)
        u, v = uv.unbind(-1)
        k = bin_depths(depth, mode, depth_min, depth_max, num_bins)
        if align == 'caddn':
            # normalise as the reference does, then un-normalise as
            # grid_sample(align_corners=False) does, in the same float32
            # steps, so that the sample positions agree bit for bit
            xn = 2 * u / (w - 1) - 1
            yn = 2 * v / (h - 1) - 1
            zn = 2 * k / (num_bins - 1) - 1
            ix = ((xn + 1) * wf - 1) / 2
            iy = ((yn + 1) * hf - 1) / 2
            iz = ((zn + 1) * num_bins - 1) / 2
        elif align == 'exact':
            # the stride of the feature map: feature size = ceil(image /
            # stride), so image / feature rounds to it
            sx, sy = max(round(w / wf), 1), max(round(h / hf), 1)
            ix = (u + 0.5) / sx - 0.5
            iy = (v + 0.5) / sy - 0.5
            iz = k - 0.5
        else:
            raise ValueError(f'align must be one of {ALIGN_MODES}, got '
                             f'{align!r}')
    return torch.stack([ix, iy, iz], -1)


def _corner_weights(coords: Tensor, d: int, hf: int, wf: int):
    """Trilinear corners of samples ``coords`` (..., 3) in index units.

    Returns, for the 4 (h, w) corners: flat hw indices (4, ...) and weights
    (4, ...), and for the 2 depth slices: indices (2, ...) and weights
    (2, ...). A corner outside the grid gets weight 0 and a clamped (valid)
    index, so a sample outside the grid has all weights 0.
    """
    x, y, z = coords.unbind(-1)
    x0, y0, z0 = x.floor(), y.floor(), z.floor()
    fx, fy, fz = x - x0, y - y0, z - z0
    x0, y0, z0 = x0.long(), y0.long(), z0.long()
    hw, w_hw = [], []
    for dy, wy in ((0, 1 - fy), (1, fy)):
        yy = y0 + dy
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xx = x0 + dx
            ok = (yy >= 0) & (yy < hf) & (xx >= 0) & (xx < wf)
            hw.append(yy.clamp(0, hf - 1) * wf + xx.clamp(0, wf - 1))
            w_hw.append(torch.where(ok, wy * wx, torch.zeros_like(wx)))
    zi, w_z = [], []
    for dz, wz in ((0, 1 - fz), (1, fz)):
        zz = z0 + dz
        ok = (zz >= 0) & (zz < d)
        zi.append(zz.clamp(0, d - 1))
        w_z.append(torch.where(ok, wz, torch.zeros_like(wz)))
    return torch.stack(hw), torch.stack(w_hw), torch.stack(zi), \
        torch.stack(w_z)


def _corner_terms(coords: Tensor, d: int, hf: int, wf: int):
    """Indices and weights of the trilinear corners of in-grid samples.

    Returns the indices of the samples that touch the grid (V,), and for the
    4 (h, w) corners: flat hw indices (4, V), and weights (4, V) (zero for
    a corner outside the grid), and for the 2 depth slices: indices (2, V)
    and weights (2, V) (:func:`_corner_weights` of the in-grid samples).
    """
    idx = _in_grid(coords, d, hf, wf).nonzero(as_tuple=True)[0]
    return (idx, ) + _corner_weights(coords[idx], d, hf, wf)


def _in_grid(coords: Tensor, d: int, hf: int, wf: int) -> Tensor:
    """Samples (..., 3) with at least one trilinear corner inside the
    (Wf, Hf, D) grid, i.e. a non-zero weight: -1 < position < size on every
    axis; False where non-finite."""
    x, y, z = coords.unbind(-1)
    return torch.isfinite(coords).all(-1) & (x > -1) & (x < wf) & \
        (y > -1) & (y < hf) & (z > -1) & (z < d)


# voxels per chunk: bounds the (C, chunk) temporaries of forward and
# backward to a few MiB, independent of the grid size
CHUNK = 16384


class _LiftFunction(torch.autograd.Function):
    """out[b, :, v] = sum_k coef[k, v] * X[b, :, hw_k] with
    coef[k, v] = w_hw[k, v] * sum_j w_z[j, v] P[b, z_j, hw_k], for the in-grid
    samples v of each batch element; zeros elsewhere.

    Channel-major throughout: ``X`` is (B, C, HW) and the output (B, C, N) is
    written in place, in the layout the caller reshapes to (B, C, Z, Y, X)
    without a copy. Work is done in chunks of :data:`CHUNK` voxels, and only
    indices and weights are kept for backward."""

    @staticmethod
    def forward(ctx, probs, feats, num_points, *corners):
        # probs (B, D, HW), feats (B, C, HW); corners: 5 tensors per sample
        b, c, _ = feats.shape
        out = feats.new_zeros(b, c, num_points)
        coefs = []
        for i in range(b):
            idx, hw, w_hw, zi, w_z = corners[5 * i:5 * i + 5]
            p, x = probs[i], feats[i]
            coef = torch.stack([
                w_hw[k] * (w_z[0] * p[zi[0], hw[k]] + w_z[1] * p[zi[1], hw[k]])
                for k in range(4)
            ])  # (4, V)
            for s in range(0, len(idx), CHUNK):
                sl = slice(s, s + CHUNK)
                acc = x.index_select(1, hw[0, sl]).mul_(coef[0, sl])
                for k in range(1, 4):
                    acc.addcmul_(x.index_select(1, hw[k, sl]), coef[k, sl])
                out[i].index_copy_(1, idx[sl], acc)
            coefs.append(coef)
        ctx.save_for_backward(probs, feats, *corners, *coefs)
        ctx.batch = b
        return out

    @staticmethod
    def backward(ctx, grad_out):
        saved = ctx.saved_tensors
        b = ctx.batch
        probs, feats = saved[:2]
        corners, coefs = saved[2:2 + 5 * b], saved[2 + 5 * b:]
        need_p, need_x = ctx.needs_input_grad[:2]
        grad_probs = torch.zeros_like(probs) if need_p else None
        grad_feats = torch.zeros_like(feats) if need_x else None
        n_hw = probs.shape[2]
        for i in range(b):
            idx, hw, w_hw, zi, w_z = corners[5 * i:5 * i + 5]
            x, coef = feats[i], coefs[i]
            for s in range(0, len(idx), CHUNK):
                sl = slice(s, s + CHUNK)
                g = grad_out[i].index_select(1, idx[sl])  # (C, v)
                for k in range(4):
                    h = hw[k, sl]
                    if need_x:
                        grad_feats[i].index_add_(1, h, g * coef[k, sl])
                    if need_p:
                        # d out / d coef_k = X[:, hw_k]
                        g_coef = torch.linalg.vecdot(
                            g, x.index_select(1, h), dim=0)  # (v,)
                        g_coef.mul_(w_hw[k, sl])
                        flat = grad_probs[i].view(-1)
                        for j in range(2):
                            flat.index_add_(0, zi[j, sl] * n_hw + h,
                                            g_coef * w_z[j, sl])
        return (grad_probs, grad_feats, None) + (None, ) * len(corners)


def _lift_gather(probs: Tensor, feats: Tensor, coords: Tensor) -> Tensor:
    """The same sum as :class:`_LiftFunction` over every voxel, in standard
    operators (Gather, Mul, Add) and without data-dependent shapes, for
    export (ONNX) and tracing.

    Args:
        probs (Tensor): (B, D, Hf, Wf) depth probabilities.
        feats (Tensor): (B, C, Hf, Wf) image features.
        coords (Tensor): (B, P, 3) sample positions of
            :func:`sample_coordinates`, non-finite where undefined.

    Returns:
        Tensor: (B, C, P) lifted features; zeros for samples outside the
        frustum. Memory: four (B * P, C) gathers, where the sparse path
        touches only the in-frustum voxels, chunk by chunk.
    """
    b, d, hf, wf = probs.shape
    c, n_hw, p = feats.shape[1], hf * wf, coords.shape[1]
    # a non-finite or far-off sample becomes one just outside the grid: all
    # its corner weights are 0, as for the samples the sparse path skips
    lo = torch.tensor([-2.0, -2.0, -2.0], device=coords.device)
    hi = torch.tensor([wf + 1.0, hf + 1.0, d + 1.0], device=coords.device)
    coords = torch.where(torch.isfinite(coords), coords, lo)
    coords = torch.minimum(torch.maximum(coords, lo), hi)
    hw, w_hw, zi, w_z = _corner_weights(coords, d, hf, wf)  # (4|2, B, P)
    # flat row indices into (B * D * HW) and (B * HW): one Gather each
    base = torch.arange(b, device=coords.device).view(b, 1)
    flat_p = probs.reshape(b * d * n_hw)
    rows_x = feats.reshape(b, c, n_hw).transpose(1, 2).reshape(b * n_hw, c)
    out = None
    for k in range(4):
        coef = w_hw[k] * (
            w_z[0] * flat_p[(base * d + zi[0]) * n_hw + hw[k]] +
            w_z[1] * flat_p[(base * d + zi[1]) * n_hw + hw[k]])  # (B, P)
        term = rows_x[(base * n_hw + hw[k]).reshape(-1)].reshape(b, p, c) * \
            coef.unsqueeze(-1)
        out = term if out is None else out + term
    return out.transpose(1, 2)


LIFT_IMPLS = ('sparse', 'gather')


def lift_frustum_to_voxels(depth_probs: Tensor,
                           feats: Tensor,
                           lidar2cam: Tensor,
                           cam2img: Tensor,
                           img_shape: Tuple[int, int],
                           point_cloud_range: Sequence[float],
                           voxel_size: Sequence[float],
                           depth_min: float,
                           depth_max: float,
                           mode: str = 'LID',
                           align: str = 'caddn',
                           impl: str = 'sparse') -> Tensor:
    """Sample image features lifted by depth probabilities into a voxel grid.

    Args:
        depth_probs (Tensor): (B, D, Hf, Wf) softmaxed depth probabilities,
            without the "beyond" bin.
        feats (Tensor): (B, C, Hf, Wf) image features.
        lidar2cam (Tensor): (B, 4, 4) LiDAR -> rectified camera
            (R0_rect @ Tr_velo_to_cam on KITTI).
        cam2img (Tensor): (B, 3 or 4, 4) camera -> image (P2).
        img_shape (tuple): Padded full-resolution (H, W) of the batch.
        point_cloud_range (Sequence[float]): [x0, y0, z0, x1, y1, z1], metres.
        voxel_size (Sequence[float]): [vx, vy, vz], metres.
        depth_min, depth_max (float): Range of the depth bins, metres.
        mode (str): Depth binning, 'UD', 'SID' or 'LID'.
        align (str): 'caddn' reproduces the reference sampling bit for bit
            (kept for comparability with published weights, quirks and all,
            see :func:`sample_coordinates`); 'exact' is the geometrically
            exact mapping.
        impl (str): 'sparse' (default: a custom autograd function over the
            in-frustum voxels, chunked, for training and inference) or
            'gather' (every voxel with standard operators and static shapes,
            for ONNX export; the same numerics, more memory).

    Returns:
        Tensor: (B, C, Z, Y, X) voxel features; zeros outside the frustum.
    """
    _check_inputs(depth_probs, feats, lidar2cam, cam2img, img_shape)
    if impl not in LIFT_IMPLS:
        raise ValueError(f'impl must be one of {LIFT_IMPLS}, got {impl!r}')
    b, d, hf, wf = depth_probs.shape
    pts, (nx, ny, nz) = voxel_centers(point_cloud_range, voxel_size,
                                      depth_probs.device)
    coords = sample_coordinates(
        lidar2cam.to(pts.device), cam2img.to(pts.device), pts,
        tuple(img_shape), (hf, wf), d, depth_min, depth_max, mode, align)
    c = feats.shape[1]
    if impl == 'gather':
        return _lift_gather(depth_probs, feats, coords).reshape(
            b, c, nz, ny, nx)
    corners = []
    for i in range(b):
        corners += list(_corner_terms(coords[i], d, hf, wf))
    out = _LiftFunction.apply(
        depth_probs.reshape(b, d, hf * wf), feats.reshape(b, c, hf * wf),
        coords.shape[1], *corners)
    return out.reshape(b, c, nz, ny, nx)


def feature_pixel_centres(img_shape: Tuple[int, int],
                          feat_shape: Tuple[int, int], align: str,
                          device=None) -> Tuple[Tensor, Tensor]:
    """Image pixel (u, v) of every feature cell's centre, (Hf * Wf,) each,
    row-major: the inverse of :func:`sample_coordinates`' mapping, so that
    the splat and the sampling lift agree on where a cell looks.
    ``caddn``: u = (j + 0.5) (W - 1) / Wf; ``exact``: u = (j + 0.5) s - 0.5
    with s = round(W / Wf)."""
    h, w = img_shape
    hf, wf = feat_shape
    j = torch.arange(wf, dtype=torch.float32, device=device) + 0.5
    i = torch.arange(hf, dtype=torch.float32, device=device) + 0.5
    if align == 'caddn':
        u, v = j * (w - 1) / wf, i * (h - 1) / hf
    elif align == 'exact':
        u = j * max(round(w / wf), 1) - 0.5
        v = i * max(round(h / hf), 1) - 0.5
    else:
        raise ValueError(f'align must be one of {ALIGN_MODES}, got '
                         f'{align!r}')
    vv, uu = torch.meshgrid(v, u, indexing='ij')
    return uu.reshape(-1), vv.reshape(-1)


def splat_frustum_to_voxels(depth_probs: Tensor,
                            feats: Tensor,
                            lidar2cam: Tensor,
                            cam2img: Tensor,
                            img_shape: Tuple[int, int],
                            point_cloud_range: Sequence[float],
                            voxel_size: Sequence[float],
                            depth_centres: Tensor,
                            align: str = 'caddn') -> Tensor:
    """The forward splat of Lift-Splat-Shoot (Philion and Fidler, ECCV 2020;
    CMKD-MV's BEVDet view transformer): every frustum point, a feature cell
    (h, w) at a depth-bin centre d, carries ``P[d, h, w] * X[:, h, w]`` into
    the voxel that contains it; each voxel sums what lands in it.

    Unlike :func:`lift_frustum_to_voxels`, which samples the frustum at every
    voxel centre (trilinear; every voxel inside the frustum gets a value),
    the splat is exact in mass (the voxels receive the frustum's features
    once each) but sparse far away, where the rays of neighbouring cells
    pass through different voxels, and piles up near the camera.

    Args:
        depth_probs (Tensor): (B, D, Hf, Wf) depth probabilities, without
            the "beyond" bin.
        feats (Tensor): (B, C, Hf, Wf) image features.
        lidar2cam (Tensor): (B, 4, 4) LiDAR -> camera.
        cam2img (Tensor): (B, 3 or 4, 4) camera -> image; depth is ``w' -
            cam2img[2, 3]`` (KITTI's rectified z, 0 for nuScenes).
        img_shape (tuple): (H, W) of the image, pixels.
        point_cloud_range, voxel_size: the grid, metres.
        depth_centres (Tensor): (D,) the bins' centre depths, metres
            (:meth:`DepthBins.centres`).
        align (str): 'caddn' or 'exact' (:func:`feature_pixel_centres`).

    Returns:
        Tensor: (B, C, Z, Y, X) voxel features; zeros where nothing lands.
    """
    _check_inputs(depth_probs, feats, lidar2cam, cam2img, img_shape)
    b, d, hf, wf = depth_probs.shape
    c = feats.shape[1]
    if depth_centres.numel() != d:
        raise ValueError(f'{depth_centres.numel()} depth-bin centres for '
                         f'{d} depth bins')
    nx, ny, nz = grid_size(point_cloud_range, voxel_size, tolerance=None)
    device = feats.device
    u, v = feature_pixel_centres(tuple(img_shape), (hf, wf), align, device)
    depth = depth_centres.to(device=device, dtype=torch.float32)
    out = feats.new_zeros(b, c, nz * ny * nx)
    lo = torch.tensor(point_cloud_range[:3], dtype=torch.float32,
                      device=device)
    size = torch.tensor(voxel_size, dtype=torch.float32, device=device)
    dims = torch.tensor([nx, ny, nz], device=device)
    with torch.no_grad():
        l2i = compose_lidar2img(lidar2cam.float(), cam2img.float())
        img2lidar = torch.linalg.inv(l2i.double()).float()      # (B, 4, 4)
        w_ = depth[:, None] + cam2img[:, None, None, 2, 3].float()  # B,D,1
        uvw = torch.stack([u.expand(b, d, -1) * w_,
                           v.expand(b, d, -1) * w_,
                           w_.expand(b, d, u.numel())], -1)  # (B, D, HW, 3)
        xyz = transform_points(uvw.reshape(b, -1, 3), img2lidar)
        cell = ((xyz - lo) / size).floor().long()               # (B, N, 3)
        inside = ((cell >= 0) & (cell < dims)).all(-1)
        flat = (cell[..., 2] * ny + cell[..., 1]) * nx + cell[..., 0]
    probs = depth_probs.reshape(b, -1)                         # (B, D*HW)
    x = feats.reshape(b, c, 1, hf * wf).expand(b, c, d, hf * wf).reshape(
        b, c, -1)
    for i in range(b):
        keep = inside[i].nonzero(as_tuple=True)[0]
        out[i].index_add_(1, flat[i, keep],
                          x[i][:, keep] * probs[i, keep])
    return out.reshape(b, c, nz, ny, nx)


REDUCTIONS = ('sum', 'mean')


def frustum_mask(lidar2cam: Tensor,
                 cam2img: Tensor,
                 img_shape: Tuple[int, int],
                 feat_shape: Tuple[int, int],
                 num_bins: int,
                 point_cloud_range: Sequence[float],
                 voxel_size: Sequence[float],
                 depth_min: float,
                 depth_max: float,
                 mode: str = 'LID',
                 align: str = 'caddn') -> Tensor:
    """Voxels that a camera's lift reaches: those whose sample position
    has a non-zero trilinear weight in the (D, Hf, Wf) frustum.

    Args:
        lidar2cam (Tensor): (B, 4, 4) LiDAR -> camera.
        cam2img (Tensor): (B, 3 or 4, 4) camera -> image.
        img_shape (tuple): (H, W) of the image, pixels.
        feat_shape (tuple): (Hf, Wf) of the feature map.
        num_bins (int): D, the depth bins without the "beyond" bin.
        Others: as :func:`lift_frustum_to_voxels`.

    Returns:
        Tensor: (B, Z, Y, X) bool; where False, the lift gives zeros.
    """
    pts, (nx, ny, nz) = voxel_centers(point_cloud_range, voxel_size,
                                      lidar2cam.device)
    coords = sample_coordinates(lidar2cam, cam2img, pts, tuple(img_shape),
                                tuple(feat_shape), num_bins, depth_min,
                                depth_max, mode, align)
    hf, wf = feat_shape
    return _in_grid(coords, num_bins, hf, wf).reshape(-1, nz, ny, nx)


def lift_cameras_to_voxels(depth_probs: Tensor,
                           feats: Tensor,
                           lidar2cam: Tensor,
                           cam2img: Tensor,
                           img_shape: Tuple[int, int],
                           point_cloud_range: Sequence[float],
                           voxel_size: Sequence[float],
                           depth_min: float,
                           depth_max: float,
                           mode: str = 'LID',
                           align: str = 'caddn',
                           impl: str = 'sparse',
                           reduce: str = 'sum') -> Tensor:
    """Several cameras of one sample lifted into one voxel grid: the
    single-camera lift (:func:`lift_frustum_to_voxels`) of each camera,
    summed over the cameras, or averaged over the cameras whose frustum
    reaches the voxel (:func:`frustum_mask`). With one camera, both are the
    single-camera lift.

    Args:
        depth_probs (Tensor): (B, N, D, Hf, Wf) depth probabilities of N
            cameras, without the "beyond" bin.
        feats (Tensor): (B, N, C, Hf, Wf) image features.
        lidar2cam (Tensor): (B, N, 4, 4) LiDAR -> each camera.
        cam2img (Tensor): (B, N, 3 or 4, 4) each camera -> its image.
        img_shape (tuple): (H, W) of every camera's (padded) image.
        reduce (str): 'sum' (where frustums overlap, the features add up,
            as in a forward splat, LSS) or 'mean' (each voxel the average
            of the cameras that reach it).
        Others: as :func:`lift_frustum_to_voxels`.

    Returns:
        Tensor: (B, C, Z, Y, X) voxel features; zeros where no camera
        reaches.
    """
    if depth_probs.dim() != 5 or feats.dim() != 5:
        raise ValueError(f'depth_probs must be (B, N, D, Hf, Wf) and feats '
                         f'(B, N, C, Hf, Wf), got {tuple(depth_probs.shape)} '
                         f'and {tuple(feats.shape)}')
    b, n = depth_probs.shape[:2]
    for name, t in (('feats', feats), ('lidar2cam', lidar2cam),
                    ('cam2img', cam2img)):
        if tuple(t.shape[:2]) != (b, n):
            raise ValueError(f'{name} {tuple(t.shape)} does not start with '
                             f'(B, N) = {(b, n)} of depth_probs '
                             f'{tuple(depth_probs.shape)}')
    if reduce not in REDUCTIONS:
        raise ValueError(f'reduce must be one of {REDUCTIONS}, got '
                         f'{reduce!r}')
    out = count = None
    for i in range(n):
        lifted = lift_frustum_to_voxels(
            depth_probs[:, i], feats[:, i], lidar2cam[:, i], cam2img[:, i],
            img_shape, point_cloud_range, voxel_size, depth_min, depth_max,
            mode, align, impl)
        out = lifted if out is None else out + lifted
        if reduce == 'mean':
            seen = frustum_mask(
                lidar2cam[:, i], cam2img[:, i], img_shape,
                tuple(depth_probs.shape[-2:]), depth_probs.shape[2],
                point_cloud_range, voxel_size, depth_min, depth_max, mode,
                align).to(out.dtype)
            count = seen if count is None else count + seen
    if reduce == 'mean':
        out = out / count.clamp(min=1).unsqueeze(1)
    return out


def lift_frustum_to_voxels_reference(depth_probs,
                                     feats,
                                     lidar2cam,
                                     cam2img,
                                     img_shape,
                                     point_cloud_range,
                                     voxel_size,
                                     depth_min,
                                     depth_max,
                                     mode='LID'):
    """The reference (CaDDN ``FrustumToVoxel``) formulation: materialise the
    (B, C, D, Hf, Wf) frustum and ``grid_sample`` it. For tests and the
    benchmark only."""
    import torch.nn.functional as F
    b, d, hf, wf = depth_probs.shape
    h, w = img_shape
    frustum = depth_probs.unsqueeze(1) * feats.unsqueeze(2)
    pts, (nx, ny, nz) = voxel_centers(point_cloud_range, voxel_size,
                                      depth_probs.device)
    # voxel order (X, Y, Z) as in the reference's grid
    pts = pts.reshape(nz, ny, nx, 3).permute(2, 1, 0, 3).reshape(-1, 3)
    uv, depth = _project(pts, lidar2cam, cam2img)
    u, v = uv.unbind(-1)
    k = bin_depths(depth, mode, depth_min, depth_max, d)
    grid = torch.stack(
        [2 * u / (w - 1) - 1, 2 * v / (h - 1) - 1, 2 * k / (d - 1) - 1], -1)
    grid = torch.where(torch.isfinite(grid), grid, torch.full_like(grid, -2))
    grid = grid.reshape(b, nx, ny, nz, 3)
    out = F.grid_sample(
        frustum,
        grid,
        mode='bilinear',
        padding_mode='zeros',
        align_corners=False)  # (B, C, X, Y, Z)
    return out.permute(0, 1, 4, 3, 2)
