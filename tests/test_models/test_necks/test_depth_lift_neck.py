"""DepthLiftNeck: channel-major collapse, settings refused at build."""
import pytest
import torch
from _helpers.models import _registry


def _neck(**kw):
    MODELS = _registry()
    cfg = dict(type='DepthLiftNeck',
               point_cloud_range=[2, -30.08, -3, 46.8, 30.08, 1],
               voxel_size=[0.64, 0.64, 0.8], num_bins=12, depth_min=2.0,
               depth_max=46.8, in_channels=4, out_channels=8, num_blocks=1)
    cfg.update(kw)
    return MODELS.build(cfg)


def _calib(batch):
    from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date
    cal = calibration_for_date('2011_09_26')
    return (torch.tensor(cal.lidar2cam, dtype=torch.float32).expand(
        batch, 4, 4), torch.tensor(cal.cam2img, dtype=torch.float32).expand(
            batch, 4, 4))


def test_lift_neck_collapses_channel_major():
    from cmkd_mmdet3d.models.utils import lift_frustum_to_voxels
    neck = _neck().eval()
    assert neck.grid_size == (70, 94, 5) and neck.bev_shape == (8, 94, 70)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 13, 12, 39, generator=g)
    feats = torch.randn(2, 4, 12, 39, generator=g)
    l2c, c2i = _calib(2)
    bev = neck(logits, feats, l2c, c2i, (94, 310))
    assert bev.shape == (2, 8, 94, 70)
    # the collapse sees the voxels in channel-major order c * Z + z
    vox = lift_frustum_to_voxels(logits.softmax(1)[:, :12], feats, l2c, c2i,
                                 (94, 310), neck.point_cloud_range,
                                 neck.voxel_size, 2.0, 46.8)
    w = torch.zeros_like(neck.collapse.conv.weight)
    w[0, 2 * 5 + 3] = 1.0                       # channel 2, height 3
    with torch.no_grad():
        neck.collapse.conv.weight.copy_(w)
    collapsed = neck.collapse(vox.reshape(2, 20, 94, 70))
    bn = neck.collapse.bn
    expected = ((vox[:, 2, 3] - bn.running_mean[0]) /
                torch.sqrt(bn.running_var[0] + bn.eps) * bn.weight[0] +
                bn.bias[0]).relu()
    torch.testing.assert_close(collapsed[:, 0], expected)
    with pytest.raises(ValueError, match='num_bins \\+ 1 = 13'):
        neck(logits[:, :12], feats, l2c, c2i, (94, 310))


def test_lift_neck_takes_several_cameras_per_sample():
    """(B, N, 4, 4) calibrations with B * N feature maps: the BEV map of
    the multi-camera lift (a front and a rear camera, summed or averaged);
    one camera as (B, 1, 4, 4) is the single-camera neck; a count that does
    not match is refused."""
    from cmkd_mmdet3d.models.utils import lift_cameras_to_voxels
    rng = dict(point_cloud_range=[-20.48, -20.48, -3, 20.48, 20.48, 1],
               voxel_size=[0.64, 0.64, 0.8])
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 13, 12, 39, generator=g)     # B = 2, N = 2
    feats = torch.randn(4, 4, 12, 39, generator=g)
    l2c, c2i = _calib(2)
    rear = torch.diag(torch.tensor([-1., -1., 1., 1.]))  # 180 deg about z
    l2c = torch.stack([l2c, l2c @ rear], 1)              # (2, 2, 4, 4)
    c2i = torch.stack([c2i, c2i], 1)
    for reduce in ('sum', 'mean'):
        neck = _neck(camera_reduce=reduce, **rng).eval()
        with torch.no_grad():
            bev = neck(logits, feats, l2c, c2i, (94, 310))
            vox = lift_cameras_to_voxels(
                logits.softmax(1)[:, :12].reshape(2, 2, 12, 12, 39),
                feats.reshape(2, 2, 4, 12, 39), l2c, c2i, (94, 310),
                neck.point_cloud_range, neck.voxel_size, 2.0, 46.8,
                reduce=reduce)
            expected = neck.blocks(neck.collapse(vox.reshape(2, 20, 64, 64)))
        assert bev.shape == (2, 8, 64, 64)
        torch.testing.assert_close(bev, expected)
        hit = (vox != 0).any(1).any(1)                   # (B, Y, X)
        assert hit[:, :, :32].any() and hit[:, :, 32:].any()  # rear, front
    neck = _neck(**rng).eval()
    with torch.no_grad():
        one = neck(logits[::2], feats[::2], l2c[:, :1], c2i[:, :1], (94, 310))
        torch.testing.assert_close(
            one, neck(logits[::2], feats[::2], l2c[:, 0], c2i[:, 0],
                      (94, 310)))
    with pytest.raises(ValueError, match=r'2 cameras per sample for 2 '
                       r'samples .* need 4 feature maps, got 2'):
        neck(logits[:2], feats[:2], l2c, c2i, (94, 310))
    with pytest.raises(ValueError, match='camera_reduce must be one of'):
        _neck(camera_reduce='max')


PCR = [2, -30.08, -3, 46.8, 30.08, 1]


@pytest.mark.parametrize('kw,message', [
    (dict(depth_min=50.0), r'DepthLiftNeck: depth_min \(50.0\) must be below '
     r'depth_max \(46.8\)'),
    (dict(depth_min=46.8), r'depth_min \(46.8\) must be below depth_max'),
    (dict(num_bins=0), 'DepthLiftNeck: num_bins must be a positive integer, '
     'got 0'),
    (dict(num_bins=-3), 'num_bins must be a positive integer, got -3'),
    (dict(mode='log'), r"DepthLiftNeck: mode must be one of \('UD', 'SID', "
     r"'LID'\) \(depth binning\), got 'log'"),
    (dict(voxel_size=[0.64, 0.0, 0.8]), r'DepthLiftNeck: voxel_size\[1\] '
     r'\(y\) must be a positive number of metres, got 0.0'),
    (dict(voxel_size=[-0.64, 0.64, 0.8]), r'voxel_size\[0\] \(x\) must be a '
     'positive number'),
    (dict(voxel_size=[0.64, 0.4, 0.8]), r'DepthLiftNeck: point_cloud_range y '
     r'extent 60.16 m \(-30.08 .. 30.08\) is not a multiple of '
     r'voxel_size\[1\] = 0.4 \(150.4000 voxels\)'),
    (dict(point_cloud_range=[2, -30.08, 1, 46.8, 30.08, -3]),
     r'point_cloud_range z range must be finite with min < max, got 1 .. -3'),
])
def test_lift_settings_refused_at_build(kw, message):
    with pytest.raises(ValueError, match=message):
        _neck(**kw)
