"""SCNet self-calibrated bottleneck, the "domain adaptation" of CMKD
(``Cc-Hy/CMKD:pcdet/models/backbones_2d/domain_adaptation/scnet.py``):
maps image-BEV features towards the LiDAR-BEV domain before the
feature distillation."""
import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn


def _conv_bn(cin: int, cout: int, norm_cfg: dict, k: int = 3,
             bias: bool = True) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, bias=bias),
        build_norm_layer(norm_cfg, cout)[1])


class SCConv(nn.Module):
    """SCConv(x) = k4(k3(x) * sigmoid(x + Up(k2(x)))), k2 with an average
    pooling by ``pooling_r``; nearest upsampling back to x's size."""

    def __init__(self, channels: int, pooling_r: int, norm_cfg: dict):
        super().__init__()
        self.k2 = nn.Sequential(
            nn.AvgPool2d(pooling_r, pooling_r),
            *_conv_bn(channels, channels, norm_cfg))
        self.k3 = _conv_bn(channels, channels, norm_cfg)
        self.k4 = _conv_bn(channels, channels, norm_cfg)

    def forward(self, x: Tensor) -> Tensor:
        up = F.interpolate(self.k2(x), x.shape[2:])
        # 1e-8 inside the sigmoid as in the reference
        gate = torch.sigmoid(x + up + 1e-8)
        return self.k4(self.k3(x) * gate)


class SCBottleneck(nn.Module):
    """(B, C, H, W) -> (B, C, H, W); width C / 2, pooling 4, residual."""

    def __init__(self, channels: int, pooling_r: int = 4, norm_cfg=None):
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN')
        g = channels // 2

        def reduce():
            return nn.Sequential(
                nn.Conv2d(channels, g, 1, bias=False),
                build_norm_layer(norm_cfg, g)[1], nn.ReLU(inplace=True))

        self.conv1_a, self.conv1_b = reduce(), reduce()
        self.k1 = _conv_bn(g, g, norm_cfg)
        self.scconv = SCConv(g, pooling_r, norm_cfg)
        self.conv3 = nn.Sequential(
            nn.Conv2d(2 * g, channels, 1, bias=False),
            build_norm_layer(norm_cfg, channels)[1])
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        a = self.relu(self.k1(self.conv1_a(x)))
        b = self.relu(self.scconv(self.conv1_b(x)))
        return self.relu(self.conv3(torch.cat([a, b], 1)) + x)
