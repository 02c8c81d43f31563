"""DepthDistributionNet: shapes and a small image."""
import pytest
import torch
from _helpers.models import _registry

# a small stride-8 depth network (ResNet-18, 10 bins, narrow ASPP)
SMALL_NET = dict(
    type='DepthDistributionNet',
    backbone=dict(type='mmdet.ResNet', depth=18, strides=(1, 2, 1, 1),
                  dilations=(1, 1, 2, 4), out_indices=(2, 3)),
    num_bins=10, feat_in_channels=256, deep_in_channels=512,
    feat_channels=8, aspp_channels=16, aspp_dilations=(2, 4, 6))


def test_depth_distribution_net_shapes_and_small_image():
    MODELS = _registry()
    net = MODELS.build(SMALL_NET)
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
    cfg = dict(SMALL_NET, backbone=dict(
        SMALL_NET['backbone'], strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)))
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


def test_coord_map_is_the_cell_position_in_minus_one_to_one():
    from cmkd_mmdet3d.models.backbones.depth_distribution_net import \
        coord_map
    grid = coord_map(torch.zeros(2, 7, 3, 5, dtype=torch.float64))
    assert grid.shape == (2, 2, 3, 5)
    assert grid.dtype == torch.float64
    # column: -1, -0.5, 0, 0.5, 1 in every row; row: -1, 0, 1 in every column
    assert torch.equal(grid[1, 0, 2], torch.tensor(
        [-1.0, -0.5, 0.0, 0.5, 1.0], dtype=torch.float64))
    assert torch.equal(grid[0, 1, :, 4], torch.tensor(
        [-1.0, 0.0, 1.0], dtype=torch.float64))
    # a map one cell wide / high sits at 0
    assert torch.equal(coord_map(torch.zeros(1, 1, 1, 1)),
                       torch.zeros(1, 2, 1, 1))


def test_coord_channels_feed_the_position_to_the_aspp_only():
    """With ``coord_channels`` the ASPP takes 2 more input channels. Given
    the same weights and zero weights on those two channels, the network
    is the one without them; weights on the row channel then change the
    logits of the same blank image."""
    MODELS = _registry()
    cfg = dict(SMALL_NET, dropout=0.0)
    torch.manual_seed(0)
    plain = MODELS.build(cfg).eval()
    coord = MODELS.build(dict(cfg, coord_channels=True)).eval()
    state = plain.state_dict()
    own = coord.state_dict()
    for key, value in state.items():
        if own[key].shape != value.shape:      # ASPP convs on the input
            assert own[key].shape[1] == value.shape[1] + 2, key
            value = torch.cat([value, torch.zeros_like(own[key][:, -2:])],
                              1)
        own[key] = value
    coord.load_state_dict(own)
    img = torch.randn(1, 3, 45, 70)
    with torch.no_grad():
        a, b = plain(img), coord(img)
    assert torch.allclose(a['depth_logits'], b['depth_logits'], atol=1e-5)
    assert torch.equal(a['feats'], b['feats'])
    zero = torch.zeros(1, 3, 45, 70)
    with torch.no_grad():
        before = coord(zero)['depth_logits']
        coord.aspp.branches[0].conv.weight[:, -1] = 1.0   # the row channel
        after = coord(zero)['depth_logits']
    # the row channel now moves the logits of the same (blank) image
    assert (after - before).abs().max() > 1e-3
