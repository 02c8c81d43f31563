"""PointPillars scatter followed by CMKD's BEV convolution stem."""
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from torch import nn

from mmdet3d.models.middle_encoders import PointPillarsScatter
from mmdet3d.registry import MODELS


@MODELS.register_module()
class PointPillarsScatterConv(PointPillarsScatter):
    """Scatter pillar features to a BEV canvas, then a stride-``stride`` 3x3
    conv and ``num_convs`` 3x3 convs (each conv + BN + ReLU).

    This is the map-to-BEV stage of CMKD's PointPillars teacher
    (``USE_CONV_LAYERS``): 0.16 m pillars are brought to the student's 0.32 m
    BEV grid, and its output is the teacher BEV map that the student imitates.
    The only difference with ``PointPillarsScatter`` is the conv stack.

    Args:
        in_channels (int): Pillar feature channels.
        output_shape (Sequence[int]): (ny, nx) of the pillar canvas.
        out_channels (int): Channels of every conv. Defaults to 128.
        stride (int): Stride of the first conv. Defaults to 2.
        num_convs (int): Convs after the first one. Defaults to 5.
        norm_cfg (dict): Defaults to BN (eps 1e-3, momentum 0.01).
    """

    def __init__(self,
                 in_channels: int,
                 output_shape: Sequence[int],
                 out_channels: int = 128,
                 stride: int = 2,
                 num_convs: int = 5,
                 norm_cfg: dict = dict(type='BN', eps=1e-3, momentum=0.01)):
        super().__init__(in_channels, output_shape)
        layers = [
            # the reference conv keeps its bias before the BN
            ConvModule(in_channels, out_channels, 3, stride=stride,
                       padding=1, bias=True, norm_cfg=norm_cfg)
        ]
        for _ in range(num_convs):
            layers.append(
                ConvModule(out_channels, out_channels, 3, padding=1,
                           bias=False, norm_cfg=norm_cfg))
        self.convs = nn.Sequential(*layers)
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, voxel_features: torch.Tensor, coors: torch.Tensor,
                batch_size: int) -> torch.Tensor:
        """(P, C) pillar features, (P, 4) coords -> (B, out_channels,
        ny / stride, nx / stride)."""
        canvas = super().forward(voxel_features, coors, batch_size)
        return self.convs(canvas)
