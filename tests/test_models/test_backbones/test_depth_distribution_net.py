"""DepthDistributionNet: shapes and a small image."""
import pytest
import torch
from _helpers.models import _registry


def test_depth_distribution_net_shapes_and_small_image():
    MODELS = _registry()
    net = MODELS.build(dict(
        type='DepthDistributionNet',
        backbone=dict(type='mmdet.ResNet', depth=18, strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), out_indices=(2, 3)),
        num_bins=10, feat_in_channels=256, deep_in_channels=512,
        feat_channels=8, aspp_channels=16, aspp_dilations=(2, 4, 6)))
    out = net(torch.randn(1, 3, 45, 70))
    assert out['depth_logits'].shape == (1, 11, 6, 9)     # ceil(45/8) ...
    assert out['feats'].shape == (1, 8, 6, 9)
    with pytest.raises(ValueError, match='smaller than the feature stride'):
        net(torch.randn(1, 3, 6, 70))
