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


def test_stride_16_backbone_gives_stride_16_maps():
    """A backbone at output stride 16 (layer3 strided, layer4 dilated) with
    ``stride=16``: both maps at ceil(H / 16) x ceil(W / 16); the same
    backbone declared at stride 8 is refused, naming both shapes."""
    MODELS = _registry()
    cfg = dict(
        type='DepthDistributionNet',
        backbone=dict(type='mmdet.ResNet', depth=18, strides=(1, 2, 2, 1),
                      dilations=(1, 1, 1, 2), out_indices=(2, 3)),
        num_bins=10, feat_in_channels=256, deep_in_channels=512,
        feat_channels=8, aspp_channels=16, aspp_dilations=(2, 4, 6))
    out = MODELS.build(dict(cfg, stride=16))(torch.randn(1, 3, 45, 70))
    assert out['depth_logits'].shape == (1, 11, 3, 5)
    assert out['feats'].shape == (1, 8, 3, 5)
    with pytest.raises(ValueError, match=r'\(3, 5\).*stride 8 \(6, 9\)'):
        MODELS.build(cfg)(torch.randn(1, 3, 45, 70))


def test_state_from_detector_strips_either_detector_prefix():
    MODELS = _registry()
    net_cls = MODELS.get('DepthDistributionNet')
    t = torch.ones(1)
    assert net_cls.state_from_detector(
        {'img_backbone.reduce.weight': t, 'bbox_head.x': t}) == {
            'reduce.weight': t}
    assert net_cls.state_from_detector(
        {'student.img_backbone.aspp.w': t, 'teacher.img_backbone.aspp.w': t,
         'student.bbox_head.x': t}) == {'aspp.w': t}
    assert net_cls.state_from_detector({'backbone.conv1.weight': t}) is None
    assert net_cls.state_from_detector([t]) is None
