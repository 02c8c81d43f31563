"""Depth-lifting neck of the CMKD student: depth logits + image features ->
voxel features -> BEV map (CaDDN, Reading et al., CVPR 2021, Sec. 3.2-3.3)."""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmdet3d.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import SCBottleneck
from ..utils.config_checks import check_voxel_grid
from ..utils.depth_bins import DepthBins
from ..utils.frustum_lift import (ALIGN_MODES, LIFT_IMPLS, REDUCTIONS,
                                  lift_cameras_to_voxels,
                                  lift_frustum_to_voxels,
                                  splat_frustum_to_voxels)

LIFT_METHODS = ('sample', 'splat')


@MODELS.register_module()
class DepthLiftNeck(BaseModule):
    """Softmax over D + 1 depth classes, drop "beyond", lift the features
    into the voxel grid (:func:`lift_frustum_to_voxels`; several cameras
    per sample: :func:`lift_cameras_to_voxels`), collapse (C * Z ->
    ``out_channels``, channel-major: index c * Z + z) and refine with SCNet
    blocks.

    Args:
        point_cloud_range (Sequence[float]): Grid range, metres; the BEV map
            coincides cell for cell with the teacher's.
        voxel_size (Sequence[float]): Metres, e.g. [0.32, 0.32, 0.4].
        num_bins (int): D.
        depth_min, depth_max (float): Depth range of the bins, metres.
        mode (str): 'UD', 'SID' or 'LID'. Defaults to 'LID'.
        depth_bins (DepthBins, optional): The student's shared depth
            discretisation (set by ``CMKDMono3D``), instead of the four keys
            above (any of them given must agree with it).
        align (str): 'caddn' (reference sampling) or 'exact'.
        in_channels (int): C of the image features. Defaults to 64.
        out_channels (int): BEV channels. Defaults to 128.
        num_blocks (int): SCBottleneck blocks. The reference's
            ``NUM_BLOCKS: 5`` builds 4 (its loop starts at 1), so the KITTI
            configs set 4. Defaults to 4.
        lift_impl (str): 'sparse' (training and inference) or 'gather'
            (standard operators, for export).
        camera_reduce (str): with several cameras per sample, 'sum' or
            'mean' of their lifts where frustums overlap. Defaults to 'sum'.
        lift_method (str): 'sample' (default: CaDDN's frustum-to-voxel
            sampling, :func:`lift_frustum_to_voxels`) or 'splat' (the
            forward splat of Lift-Splat-Shoot, as CMKD-MV's BEVDet,
            :func:`splat_frustum_to_voxels`: each frustum point at its bin
            centre adds its feature to the voxel that contains it; cameras
            are summed).

    Raises:
        ValueError: at build time, naming the key and the value, for a
            non-positive voxel size, a range that is not a whole number of
            voxels, ``depth_min >= depth_max``, ``num_bins <= 0`` or an
            unknown mode (:mod:`~cmkd_mmdet3d.models.utils.config_checks`).
    """

    def __init__(self,
                 point_cloud_range: Sequence[float],
                 voxel_size: Sequence[float],
                 num_bins: Optional[int] = None,
                 depth_min: Optional[float] = None,
                 depth_max: Optional[float] = None,
                 mode: Optional[str] = None,
                 align: str = 'caddn',
                 in_channels: int = 64,
                 out_channels: int = 128,
                 num_blocks: int = 4,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 depth_bins: Optional[DepthBins] = None,
                 lift_impl: str = 'sparse',
                 camera_reduce: str = 'sum',
                 lift_method: str = 'sample') -> None:
        super().__init__(init_cfg=init_cfg)
        if lift_method not in LIFT_METHODS:
            raise ValueError(f'DepthLiftNeck: lift_method must be one of '
                             f'{LIFT_METHODS}, got {lift_method!r}')
        if lift_method == 'splat' and camera_reduce != 'sum':
            raise ValueError("DepthLiftNeck: lift_method='splat' sums the "
                             "cameras (camera_reduce='sum')")
        self.lift_method = lift_method
        if camera_reduce not in REDUCTIONS:
            raise ValueError(f'DepthLiftNeck: camera_reduce must be one of '
                             f'{REDUCTIONS}, got {camera_reduce!r}')
        self.camera_reduce = camera_reduce
        if align not in ALIGN_MODES:
            raise ValueError(f'align must be one of {ALIGN_MODES}, got '
                             f'{align!r}')
        if lift_impl not in LIFT_IMPLS:
            raise ValueError(f'DepthLiftNeck: lift_impl must be one of '
                             f'{LIFT_IMPLS}, got {lift_impl!r}')
        self.lift_impl = lift_impl
        if len(voxel_size) != 3:
            raise ValueError('DepthLiftNeck: voxel_size needs 3 values '
                             f'[vx, vy, vz], got {voxel_size}')
        # refused here, when the model is built, not at the first forward;
        # (X, Y, Z) of structures.geometry.grid_size
        size = check_voxel_grid(point_cloud_range, voxel_size,
                                'DepthLiftNeck')
        own = dict(mode=mode, depth_min=depth_min, depth_max=depth_max,
                   num_bins=num_bins)
        if depth_bins is None:
            depth_bins = DepthBins(**dict(own, mode=mode or 'LID'),
                                   owner='DepthLiftNeck')
        for key, value in own.items():
            if value is not None and value != getattr(depth_bins, key):
                raise ValueError(f'DepthLiftNeck: {key} ({value!r}) differs '
                                 f'from the depth bins\' '
                                 f'{getattr(depth_bins, key)!r}')
        for key, value in (('in_channels', in_channels),
                           ('out_channels', out_channels)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'DepthLiftNeck: {key} must be a positive '
                                 f'integer, got {value!r}')
        norm_cfg = norm_cfg or dict(type='BN')
        self.point_cloud_range = [float(x) for x in point_cloud_range]
        self.voxel_size = [float(x) for x in voxel_size]
        self.grid_size = size
        self.depth_bins, self.align = depth_bins, align
        self.in_channels, self.out_channels = in_channels, out_channels
        nz = self.grid_size[2]
        self.collapse = ConvModule(in_channels * nz, out_channels, 1,
                                   bias=False, norm_cfg=norm_cfg)
        self.blocks = nn.Sequential(*[
            SCBottleneck(out_channels, norm_cfg=norm_cfg)
            for _ in range(num_blocks)
        ])

    @property
    def num_bins(self) -> int:
        """D, of the shared :class:`DepthBins`."""
        return self.depth_bins.num_bins

    @property
    def mode(self) -> str:
        return self.depth_bins.mode

    @property
    def depth_min(self) -> float:
        return self.depth_bins.depth_min

    @property
    def depth_max(self) -> float:
        return self.depth_bins.depth_max

    @property
    def bev_shape(self) -> Tuple[int, int, int]:
        """(C, Y, X) of the BEV map."""
        return (self.out_channels, self.grid_size[1], self.grid_size[0])

    def _splat(self, probs: Tensor, feats: Tensor, lidar2cam: Tensor,
               cam2img: Tensor, img_shape: Tuple[int, int]) -> Tensor:
        """:func:`splat_frustum_to_voxels` of every camera, summed per
        sample: (B, C, Z, Y, X)."""
        n = lidar2cam.shape[1] if lidar2cam.dim() == 4 else 1
        b = probs.shape[0] // n
        if probs.shape[0] != b * n:
            raise ValueError(f'{n} cameras per sample need a multiple of '
                             f'{n} feature maps, got {probs.shape[0]}')
        voxels = splat_frustum_to_voxels(
            probs, feats, lidar2cam.reshape(-1, 4, 4),
            cam2img.reshape(-1, *cam2img.shape[-2:]), img_shape,
            self.point_cloud_range, self.voxel_size,
            self.depth_bins.centres(), self.align)
        return voxels.reshape(b, n, *voxels.shape[1:]).sum(1)

    def forward(self, depth_logits: Tensor, feats: Tensor, lidar2cam: Tensor,
                cam2img: Tensor, img_shape: Tuple[int, int]) -> Tensor:
        """Lift, collapse and refine.

        Args:
            depth_logits (Tensor): (M, D + 1, Hf, Wf), M = B images, or
                B * N for N cameras per sample (sample-major, as mmdet3d
                flattens (B, N, ...) multi-view batches).
            feats (Tensor): (M, C, Hf, Wf) image features.
            lidar2cam (Tensor): (B, 4, 4), or (B, N, 4, 4) for N cameras.
            cam2img (Tensor): (B, 3 or 4, 4), or (B, N, 3 or 4, 4).
            img_shape (tuple): padded image (H, W), pixels, the same for
                every camera.

        Returns:
            Tensor: (B, out_channels, Y, X) BEV features.
        """
        if depth_logits.shape[1] != self.num_bins + 1:
            raise ValueError(f'depth logits have {depth_logits.shape[1]} '
                             f'classes, expected num_bins + 1 = '
                             f'{self.num_bins + 1}')
        if feats.shape[1] != self.in_channels:
            raise ValueError(f'features have {feats.shape[1]} channels, '
                             f'expected {self.in_channels}')
        probs = depth_logits.softmax(1)[:, :-1].contiguous()
        feats = feats.contiguous()
        args = (img_shape, self.point_cloud_range, self.voxel_size,
                self.depth_min, self.depth_max, self.mode, self.align,
                self.lift_impl)
        if self.lift_method == 'splat':
            voxels = self._splat(probs, feats, lidar2cam, cam2img, img_shape)
        elif lidar2cam.dim() == 4:
            b, n = lidar2cam.shape[:2]
            if probs.shape[0] != b * n:
                raise ValueError(
                    f'{n} cameras per sample for {b} samples (lidar2cam '
                    f'{tuple(lidar2cam.shape)}) need {b * n} feature maps, '
                    f'got {probs.shape[0]}')
            voxels = lift_cameras_to_voxels(
                probs.reshape(b, n, *probs.shape[1:]),
                feats.reshape(b, n, *feats.shape[1:]), lidar2cam, cam2img,
                *args, reduce=self.camera_reduce)
        else:
            voxels = lift_frustum_to_voxels(probs, feats, lidar2cam,
                                            cam2img, *args)
        b, c, z, y, x = voxels.shape
        bev = self.collapse(voxels.reshape(b, c * z, y, x))
        # the reference runs SCNet outside autocast (float32)
        with torch.autocast(bev.device.type, enabled=False):
            return self.blocks(bev.float())
