"""Depth distribution network of the CMKD student (spec section 2, rows
1-3): a dilated ResNet at output stride 8, a DeepLabV3 ASPP head giving
D + 1 depth logits, and the channel-reduced stride-8 image feature."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet3d.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn


class ASPP(nn.Module):
    """DeepLabV3 atrous spatial pyramid pooling: a 1x1 branch, 3x3 branches
    at ``dilations`` and an image-pooling branch, concatenated and projected
    to ``channels`` with dropout (torchvision's ``ASPP``)."""

    def __init__(self, in_channels: int, channels: int = 256,
                 dilations: Sequence[int] = (12, 24, 36),
                 dropout: float = 0.5, norm_cfg: Optional[dict] = None):
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN')
        cm = dict(norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'), bias=False)
        self.branches = nn.ModuleList(
            [ConvModule(in_channels, channels, 1, **cm)] + [
                ConvModule(in_channels, channels, 3, padding=d, dilation=d,
                           **cm) for d in dilations
            ])
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), ConvModule(in_channels, channels, 1,
                                                **cm))
        self.project = nn.Sequential(
            ConvModule(channels * (len(dilations) + 2), channels, 1, **cm),
            nn.Dropout(dropout))

    def _pooled(self, x: Tensor) -> Tensor:
        conv = self.image_pool[1]
        y = conv.conv(self.image_pool[0](x))
        norm = conv.norm
        if self.training and x.shape[0] == 1 and \
                isinstance(norm, nn.modules.batchnorm._BatchNorm):
            # batch statistics of one 1x1 map are undefined (torchvision's
            # ASPP raises here); one image per GPU uses the running ones
            y = F.batch_norm(y, norm.running_mean, norm.running_var,
                             norm.weight, norm.bias, False, 0.0, norm.eps)
        else:
            y = norm(y)
        return conv.activate(y)

    def forward(self, x: Tensor) -> Tensor:
        outs = [b(x) for b in self.branches]
        outs.append(self._pooled(x).expand(-1, -1, *x.shape[2:]))
        return self.project(torch.cat(outs, 1))


@MODELS.register_module()
class DepthDistributionNet(BaseModule):
    """Image -> depth logits (B, D + 1, Hf, Wf) and reduced image features
    (B, C, Hf, Wf), both at the backbone's output stride (8).

    Args:
        backbone (dict): An image backbone returning (stride-8 feature,
            deepest feature), e.g. ``mmdet.ResNet`` with
            ``strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
            out_indices=(2, 3)`` (torchvision's DeepLabV3 dilation pattern,
            ``replace_stride_with_dilation=[False, True, True]``). Pretrained
            weights through its ``init_cfg``, e.g.
            ``dict(type='Pretrained', checkpoint='torchvision://resnet50')``.
        num_bins (int): D; the head predicts D + 1 classes, the last one
            "beyond the range".
        feat_in_channels (int): Channels of the stride-8 feature (1024 for
            ResNet-50 layer3).
        deep_in_channels (int): Channels of the deepest feature (2048).
        feat_channels (int): Channels after the 1x1 reduction. Defaults
            to 64.
        aspp_channels (int): Defaults to 256.
        aspp_dilations (Sequence[int]): Defaults to (12, 24, 36).
        stride (int): Output stride of the backbone, checked at run time.
            Defaults to 8.
    """

    def __init__(self,
                 backbone: dict,
                 num_bins: int,
                 feat_in_channels: int = 1024,
                 deep_in_channels: int = 2048,
                 feat_channels: int = 64,
                 aspp_channels: int = 256,
                 aspp_dilations: Sequence[int] = (12, 24, 36),
                 dropout: float = 0.5,
                 stride: int = 8,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN')
        self.backbone = MODELS.build(backbone)
        self.num_bins = num_bins
        self.stride = stride
        self.aspp = ASPP(deep_in_channels, aspp_channels, aspp_dilations,
                         dropout, norm_cfg)
        self.depth_head = nn.Sequential(
            ConvModule(aspp_channels, aspp_channels, 3, padding=1,
                       bias=False, norm_cfg=norm_cfg),
            nn.Conv2d(aspp_channels, num_bins + 1, 1))
        self.reduce = ConvModule(feat_in_channels, feat_channels, 1,
                                 bias=False, norm_cfg=norm_cfg)

    def forward(self, img: Tensor) -> Dict[str, Tensor]:
        """(B, 3, H, W) normalised image -> dict(depth_logits, feats)."""
        h, w = img.shape[-2:]
        if h < self.stride or w < self.stride:
            raise ValueError(f'image {h}x{w} is smaller than the feature '
                             f'stride {self.stride}')
        feat, deep = self.backbone(img)[-2:]
        expected = (-(-h // self.stride), -(-w // self.stride))
        if tuple(feat.shape[-2:]) != expected:
            raise ValueError(
                f'backbone feature {tuple(feat.shape[-2:])} is not the image '
                f'{h}x{w} at stride {self.stride} {expected}: check the '
                'backbone strides / dilations / out_indices')
        logits = self.depth_head(self.aspp(deep))
        if logits.shape[-2:] != feat.shape[-2:]:
            logits = F.interpolate(logits, feat.shape[-2:], mode='bilinear',
                                   align_corners=False)
        return dict(depth_logits=logits, feats=self.reduce(feat))
