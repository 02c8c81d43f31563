"""The frustum-to-voxel lift against plain reference formulations."""
import numpy as np
import pytest
import torch

from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date
from cmkd_mmdet3d.models.utils import (frustum_mask, lift_cameras_to_voxels,
                                       lift_frustum_to_voxels,
                                       lift_frustum_to_voxels_reference,
                                       voxel_centers)


PCR = [2, -30.08, -3, 46.8, 30.08, 1]


def _inputs(batch, c=6, d=24, hf=16, wf=52, seed=0, dates=None):
    g = torch.Generator().manual_seed(seed)
    dates = dates or ['2011_09_26', '2011_09_29', '2011_10_03'][:batch]
    cal = [calibration_for_date(x) for x in dates]
    l2c = torch.tensor(np.stack([x.lidar2cam for x in cal]),
                       dtype=torch.float32)
    c2i = torch.tensor(np.stack([x.cam2img for x in cal]),
                       dtype=torch.float32)
    probs = torch.softmax(torch.randn(batch, d + 1, hf, wf, generator=g),
                          1)[:, :d]
    feats = torch.randn(batch, c, hf, wf, generator=g)
    return probs, feats, l2c, c2i


@pytest.mark.parametrize('mode', ['LID', 'UD'])
def test_caddn_lift_equals_materialised_reference(mode):
    """Three different calibrations in one batch; values and gradients."""
    probs, feats, l2c, c2i = _inputs(3)
    probs.requires_grad_()
    feats.requires_grad_()
    args = (l2c, c2i, (376, 1248), PCR, [0.64, 0.64, 0.8], 2.0, 46.8, mode)
    ours = lift_frustum_to_voxels(probs, feats, *args)
    ref = lift_frustum_to_voxels_reference(probs, feats, *args)
    assert ours.shape == (3, 6, 5, 94, 70)
    assert (ref != 0).float().mean() > 0.05       # the frustum is hit
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    g = torch.randn_like(ref)
    go = torch.autograd.grad((ours * g).sum(), (probs, feats))
    gr = torch.autograd.grad((ref * g).sum(), (probs, feats))
    for a, b in zip(go, gr):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_caddn_lift_on_real_kitti_calibration():
    """The KITTI sample frame's calibration from mmdet3d's test data."""
    import os
    from conftest import SHARED_SAMPLES
    path = os.path.join(SHARED_SAMPLES, 'kitti', 'training', 'calib',
                        '000000.pkl')
    if not os.path.exists(path):
        pytest.skip('shared KITTI sample frames not present')
    import mmengine
    calib = mmengine.load(path)
    l2c = torch.tensor(np.asarray(calib['lidar2cam']),
                       dtype=torch.float32)[None]
    c2i = torch.tensor(np.asarray(calib['cam2img']),
                       dtype=torch.float32)[None]
    probs, feats, _, _ = _inputs(1, hf=47, wf=153)
    args = (l2c, c2i, (370, 1224), PCR, [0.32, 0.32, 0.4], 2.0, 46.8)
    torch.testing.assert_close(
        lift_frustum_to_voxels(probs, feats, *args),
        lift_frustum_to_voxels_reference(probs, feats, *args),
        rtol=1e-5, atol=1e-6)


def test_exact_lift_reproduces_a_linear_field():
    """With X = 1 and P(d, h, w) = a d + b h + c w + e, trilinear sampling
    returns the field at the exact sample position wherever all eight
    neighbours are inside."""
    # stride 24; the width is not a multiple of it (52 = ceil(1242 / 24))
    b, d, hf, wf, h, w, stride = 1, 24, 16, 52, 380, 1242, 24
    _, _, l2c, c2i = _inputs(1)
    dd, hh, ww = torch.meshgrid(torch.arange(d), torch.arange(hf),
                                torch.arange(wf), indexing='ij')
    coef = (0.7, -0.3, 0.05, 2.0)
    field = coef[0] * dd + coef[1] * hh + coef[2] * ww + coef[3]
    probs = field[None].float()
    feats = torch.ones(b, 1, hf, wf)
    vs = [0.64, 0.64, 0.8]
    out = lift_frustum_to_voxels(probs, feats, l2c, c2i, (h, w), PCR, vs,
                                 2.0, 46.8, align='exact')[0, 0].reshape(-1)
    # independent sample positions: project voxel centres by hand
    pts, _ = voxel_centers(PCR, vs)
    p = np.c_[pts.double().numpy(), np.ones(len(pts))]
    cam = p @ l2c[0].double().numpy().T
    img = cam @ c2i[0, :3].double().numpy().T
    u, v = img[:, 0] / img[:, 2], img[:, 1] / img[:, 2]
    depth = img[:, 2] - c2i[0, 2, 3].item()
    delta = 2 * 44.8 / (d * (d + 1))
    k = -0.5 + 0.5 * np.sqrt(np.maximum(1 + 8 * (depth - 2.0) / delta, 0))
    ix = (u + 0.5) / stride - 0.5
    iy = (v + 0.5) / stride - 0.5
    iz = k - 0.5
    inside = (depth > 2.0) & (ix >= 0) & (ix <= wf - 1) & (iy >= 0) & \
        (iy <= hf - 1) & (iz >= 0) & (iz <= d - 1)
    assert inside.sum() > 100
    expected = coef[0] * iz + coef[1] * iy + coef[2] * ix + coef[3]
    np.testing.assert_allclose(out.numpy()[inside], expected[inside],
                               rtol=2e-4, atol=2e-4)
    # outside the frustum: exactly zero
    far = (depth <= 0) | (ix < -1) | (ix > wf) | (iy < -1) | (iy > hf)
    assert (out.numpy()[far] == 0).all()


def test_bad_inputs_fail_early():
    probs, feats, l2c, c2i = _inputs(2)
    with pytest.raises(ValueError, match='lidar2cam must be'):
        lift_frustum_to_voxels(probs, feats, l2c[:, :3], c2i, (376, 1248), PCR,
                               [0.64, 0.64, 0.8], 2.0, 46.8)
    with pytest.raises(ValueError, match='smaller than the feature map'):
        lift_frustum_to_voxels(probs, feats, l2c, c2i, (8, 416), PCR,
                               [0.64, 0.64, 0.8], 2.0, 46.8)
    with pytest.raises(ValueError, match='align'):
        lift_frustum_to_voxels(probs, feats, l2c, c2i, (376, 1248), PCR,
                               [0.64, 0.64, 0.8], 2.0, 46.8, align='x')


@pytest.mark.parametrize('align,mode', [('caddn', 'LID'), ('exact', 'SID')])
def test_gather_lift_equals_sparse_lift(align, mode):
    """The export path (standard operators, every voxel) gives the sparse
    path's values and gradients; a camera whose plane cuts through the grid
    gives non-finite and behind-camera samples, which both paths zero."""
    probs, feats, l2c, c2i = _inputs(2)
    # second camera turned 90 degrees about its y axis: half the grid is
    # behind it and some voxel centres lie in its image plane (w' = 0)
    turn = torch.tensor([[0., 0., 1., 0.], [0., 1., 0., 0.],
                         [-1., 0., 0., 0.], [0., 0., 0., 1.]])
    l2c[1] = turn @ l2c[1]
    probs.requires_grad_()
    feats.requires_grad_()
    args = (l2c, c2i, (376, 1248), PCR, [0.64, 0.64, 0.8], 2.0, 46.8, mode,
            align)
    sparse = lift_frustum_to_voxels(probs, feats, *args)
    gather = lift_frustum_to_voxels(probs, feats, *args, impl='gather')
    assert gather.shape == sparse.shape == (2, 6, 5, 94, 70)
    hit = (sparse != 0).float().mean((1, 2, 3, 4))
    assert (hit > 0.02).all()          # both cameras see part of the grid
    torch.testing.assert_close(gather, sparse, rtol=1e-6, atol=1e-6)
    g = torch.randn_like(sparse)
    gs = torch.autograd.grad((sparse * g).sum(), (probs, feats))
    gg = torch.autograd.grad((gather * g).sum(), (probs, feats))
    for a, b in zip(gg, gs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='impl must be one of'):
        lift_frustum_to_voxels(probs, feats, *args, impl='dense')


# a grid all around the LiDAR, for cameras that look in several directions
PCR_ROUND = [-24.0, -24.0, -3.0, 24.0, 24.0, 1.0]
VOXEL_ROUND = [0.8, 0.8, 1.0]


def _yawed(l2c, degrees):
    """lidar2cam of the same camera turned by ``degrees`` about the LiDAR's
    z axis (the point is turned back first, then seen by the camera)."""
    a = np.deg2rad(degrees)
    rz = torch.tensor([[np.cos(a), np.sin(a), 0, 0],
                       [-np.sin(a), np.cos(a), 0, 0], [0, 0, 1, 0],
                       [0, 0, 0, 1]], dtype=torch.float32)
    return l2c @ rz


def _cameras(batch, yaws, seed=0):
    """(B, N, ...) inputs of N cameras: KITTI's camera turned by each yaw,
    each with its own depth probabilities and features."""
    per_cam = [_inputs(batch, seed=seed + i) for i in range(len(yaws))]
    probs = torch.stack([x[0] for x in per_cam], 1)
    feats = torch.stack([x[1] for x in per_cam], 1)
    l2c = torch.stack([_yawed(x[2], y) for x, y in zip(per_cam, yaws)], 1)
    c2i = torch.stack([x[3] for x in per_cam], 1)
    return probs, feats, l2c, c2i


def _grid_args(mode='LID', align='caddn'):
    return ((376, 1248), PCR_ROUND, VOXEL_ROUND, 2.0, 46.8, mode, align)


def test_multi_camera_lift_sums_the_single_camera_lifts():
    """A front and a rear camera: the multi-camera lift is the sum of the
    two single-camera lifts; each fills its own half of the grid, so where
    the frustums do not overlap the mean is the sum."""
    probs, feats, l2c, c2i = _cameras(2, [0, 180])
    multi = lift_cameras_to_voxels(probs, feats, l2c, c2i, *_grid_args())
    single = [lift_frustum_to_voxels(probs[:, i], feats[:, i], l2c[:, i],
                                     c2i[:, i], *_grid_args())
              for i in range(2)]
    assert multi.shape == (2, 6, 4, 60, 60)
    torch.testing.assert_close(multi, single[0] + single[1], rtol=0,
                               atol=1e-6)
    # the front camera (LiDAR x forward) fills x > 0, the rear one x < 0
    xs = voxel_centers(PCR_ROUND, VOXEL_ROUND)[0][:, 0].reshape(4, 60, 60)
    for lifted, side in ((single[0], xs > 0), (single[1], xs < 0)):
        hit = (lifted != 0).any(1)                       # (B, Z, Y, X)
        assert hit.any() and not (hit & ~side).any()
    masks = [frustum_mask(l2c[:, i], c2i[:, i], (376, 1248), (16, 52), 24,
                          *_grid_args()[1:]) for i in range(2)]
    assert not (masks[0] & masks[1]).any()
    mean = lift_cameras_to_voxels(probs, feats, l2c, c2i, *_grid_args(),
                                  reduce='mean')
    torch.testing.assert_close(mean, multi, rtol=0, atol=1e-6)


def test_multi_camera_mean_averages_overlapping_cameras():
    """Two cameras in the same place with different features: 'mean' is
    the average of their lifts, 'sum' twice it; one camera alone is the
    single-camera lift with either reduction."""
    probs, feats, l2c, c2i = _cameras(1, [30, 30])
    args = _grid_args('SID', 'exact')
    single = [lift_frustum_to_voxels(probs[:, i], feats[:, i], l2c[:, i],
                                     c2i[:, i], *args) for i in range(2)]
    mean = lift_cameras_to_voxels(probs, feats, l2c, c2i, *args,
                                  reduce='mean')
    torch.testing.assert_close(mean, (single[0] + single[1]) / 2, rtol=0,
                               atol=1e-6)
    for reduce in ('sum', 'mean'):
        one = lift_cameras_to_voxels(probs[:, :1], feats[:, :1], l2c[:, :1],
                                     c2i[:, :1], *args, reduce=reduce)
        torch.testing.assert_close(one, single[0], rtol=0, atol=0)


def test_frustum_mask_is_where_the_lift_reaches():
    """Lifting ones gives a non-zero voxel exactly where the mask is set
    (the trilinear weights are positive inside, zero outside)."""
    _, _, l2c, c2i = _inputs(2)
    l2c[1] = _yawed(l2c[1:], 90)[0]
    for align in ('caddn', 'exact'):
        ones_p, ones_x = torch.ones(2, 24, 16, 52), torch.ones(2, 1, 16, 52)
        lifted = lift_frustum_to_voxels(ones_p, ones_x, l2c, c2i,
                                        *_grid_args('LID', align))[:, 0]
        mask = frustum_mask(l2c, c2i, (376, 1248), (16, 52), 24,
                            *_grid_args('LID', align)[1:])
        assert mask.shape == lifted.shape == (2, 4, 60, 60)
        assert mask.float().mean() > 0.02
        assert torch.equal(mask, lifted > 0)


def test_multi_camera_gather_equals_sparse_with_gradients():
    probs, feats, l2c, c2i = _cameras(1, [0, 60, 180])
    probs.requires_grad_()
    feats.requires_grad_()
    sparse = lift_cameras_to_voxels(probs, feats, l2c, c2i, *_grid_args(),
                                    reduce='mean')
    gather = lift_cameras_to_voxels(probs, feats, l2c, c2i, *_grid_args(),
                                    impl='gather', reduce='mean')
    torch.testing.assert_close(gather, sparse, rtol=1e-6, atol=1e-6)
    g = torch.randn_like(sparse)
    gs = torch.autograd.grad((sparse * g).sum(), (probs, feats))
    gg = torch.autograd.grad((gather * g).sum(), (probs, feats))
    for a, b in zip(gg, gs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    # every camera's inputs get a gradient
    assert (gs[1].abs().sum((0, 2, 3, 4)) > 0).all()


def test_multi_camera_bad_inputs_fail_early():
    probs, feats, l2c, c2i = _cameras(2, [0, 180])
    with pytest.raises(ValueError, match=r'\(B, N, D, Hf, Wf\)'):
        lift_cameras_to_voxels(probs[:, 0], feats[:, 0], l2c, c2i,
                               *_grid_args())
    with pytest.raises(ValueError,
                       match=r'lidar2cam \(2, 1, 4, 4\) does not start with'):
        lift_cameras_to_voxels(probs, feats, l2c[:, :1], c2i, *_grid_args())
    with pytest.raises(ValueError, match='reduce must be one of'):
        lift_cameras_to_voxels(probs, feats, l2c, c2i, *_grid_args(),
                               reduce='max')


NUS_CAMERAS = ('CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_BACK_RIGHT', 'CAM_BACK',
               'CAM_BACK_LEFT', 'CAM_FRONT_LEFT')      # clockwise from front


def test_six_real_nuscenes_cameras_reach_the_surround_grid():
    """The six cameras of mmdet3d's nuScenes sample info (its
    ``lidar2cam`` and 3 x 3 ``cam2img``, 1600 x 900 images): each camera's
    frustum is the sector of its optical axis and field of view, the six
    together reach every cell between 5 and 50 m, neighbours overlap and
    opposite cameras do not; where two overlap, 'sum' lifts twice what
    'mean' lifts."""
    import math
    import os
    from conftest import SHARED_SAMPLES
    path = os.path.join(SHARED_SAMPLES, 'nuscenes', 'nus_info.pkl')
    if not os.path.exists(path):
        pytest.skip('shared nuScenes sample info not present')
    from cmkd_mmdet3d.structures.geometry import to_homogeneous
    from cmkd_mmdet3d.utils.safe_pickle import load_pickle_file
    images = load_pickle_file(path)['data_list'][0]['images']
    l2c = torch.tensor(np.stack([images[c]['lidar2cam']
                                 for c in NUS_CAMERAS]),
                       dtype=torch.float32)[None]             # (1, 6, 4, 4)
    c2i = torch.tensor(np.stack([to_homogeneous(np.asarray(
        images[c]['cam2img']))[:3] for c in NUS_CAMERAS]),
                       dtype=torch.float32)[None]             # (1, 6, 3, 4)
    pcr, voxel = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0], [0.8, 0.8, 8.0]
    img, feat, bins = (900, 1600), (57, 100), 60
    masks = torch.stack([
        frustum_mask(l2c[:, i], c2i[:, i], img, feat, bins, pcr, voxel, 1.0,
                     60.0)[0, 0] for i in range(6)])          # (6, Y, X)
    xs, ys = voxel_centers(pcr, voxel)[0][:, :2].T.reshape(2, 128, 128)
    ring = (torch.hypot(xs, ys) >= 5) & (torch.hypot(xs, ys) <= 50)
    assert masks.any(0)[ring].float().mean() == 1.0
    for i in range(6):
        rot, t = l2c[0, i, :3, :3], l2c[0, i, :3, 3]
        centre = -rot.T @ t              # the camera in LiDAR coordinates
        axis = rot[2]                    # its optical axis in LiDAR axes
        yaw = torch.atan2(axis[1], axis[0])
        azimuth = torch.atan2(ys - centre[1], xs - centre[0])
        off = torch.remainder(azimuth - yaw + math.pi, 2 * math.pi) - math.pi
        fx, cx = c2i[0, i, 0, 0].item(), c2i[0, i, 0, 2].item()
        # the image's two half-angles (the principal point is off-centre)
        wide = max(math.atan(cx / fx), math.atan((1600 - cx) / fx))
        narrow = min(math.atan(cx / fx), math.atan((1600 - cx) / fx))
        seen = masks[i] & ring
        assert (off[seen].abs() < wide + math.radians(2)).all(), \
            NUS_CAMERAS[i]
        inner = ring & (off.abs() < narrow - math.radians(2))
        assert (masks[i] & inner).sum() == inner.sum(), NUS_CAMERAS[i]
        nxt, opposite = masks[(i + 1) % 6], masks[(i + 3) % 6]
        assert (masks[i] & nxt & ring).any(), NUS_CAMERAS[i]
        assert not (masks[i] & opposite & ring).any(), NUS_CAMERAS[i]
    # lifting ones: 1 inside a frustum (the trilinear weights sum to 1),
    # the sum of the cameras where they overlap, 1 again with 'mean'
    ones_p = torch.ones(1, 6, bins, *feat)
    ones_x = torch.ones(1, 6, 1, *feat)
    out = {reduce: lift_cameras_to_voxels(
        ones_p, ones_x, l2c, c2i, img, pcr, voxel, 1.0, 60.0,
        reduce=reduce)[0, 0, 0] for reduce in ('sum', 'mean')}
    overlap = ring & (masks.sum(0) == 2)
    interior = ring & (masks.sum(0) == 1)
    assert overlap.sum() > 1000 and interior.sum() > 5000
    # cells at a frustum's edge get a partial weight; most are inside
    full = out['mean'] > 1 - 1e-5
    assert full[overlap].float().mean() > 0.5
    torch.testing.assert_close(out['sum'][overlap & full],
                               2 * out['mean'][overlap & full])
    torch.testing.assert_close(out['sum'][interior], out['mean'][interior])


def test_forward_splat_by_hand_mass_and_gradients():
    """The LSS splat: a cell whose depth is one-hot at bin k puts its whole
    feature into the voxel containing its back-projected bin centre
    (computed here with numpy from the pinhole model); the splat conserves
    the in-grid mass sum_{d,h,w} P X; gradients reach both inputs."""
    import numpy as np
    from cmkd_mmdet3d.models.utils.depth_bins import DepthBins
    from cmkd_mmdet3d.models.utils.frustum_lift import (
        feature_pixel_centres, splat_frustum_to_voxels)
    bins = DepthBins(mode='UD', depth_min=1.0, depth_max=41.0, num_bins=20)
    centres = bins.centres()
    h, w, hf, wf = 64, 96, 8, 12
    k = np.array([[60.0, 0, 47.5], [0, 60.0, 31.5], [0, 0, 1]])
    # camera looking along LiDAR +x (x right = -y, y down = -z, z = x)
    l2c = np.array([[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0],
                    [0, 0, 0, 1]], np.float64)
    c2i = np.concatenate([k, np.zeros((3, 1))], 1)
    # (z bounds off the rays' heights at the bin centres, no ties)
    pcr, vs = [0, -20, -4.5, 40, 20, 3.5], [1.0, 1.0, 2.0]
    probs = torch.zeros(1, 20, hf, wf)
    feats = torch.zeros(1, 3, hf, wf)
    # cell (row 5, col 2), all mass in bin 7 (centre 15 m)
    probs[0, 7, 5, 2] = 1.0
    feats[0, :, 5, 2] = torch.tensor([1.0, 2.0, 3.0])
    out = splat_frustum_to_voxels(
        probs, feats, torch.tensor(l2c[None]).float(),
        torch.tensor(c2i[None]).float(), (h, w), pcr, vs, centres, 'exact')
    assert out.shape == (1, 3, 4, 40, 40)
    u, v = feature_pixel_centres((h, w), (hf, wf), 'exact')
    assert (u[2].item(), v[5 * wf].item()) == (19.5, 43.5)  # (j+.5)*8-.5
    depth = centres[7].item()
    cam = np.linalg.solve(k, [19.5 * depth, 43.5 * depth, depth])
    xyz = np.linalg.solve(l2c[:3, :3], cam)
    ix, iy, iz = ((xyz - pcr[:3]) // vs).astype(int)
    nonzero = out[0].abs().sum(0).nonzero().tolist()
    assert nonzero == [[iz, iy, ix]]
    torch.testing.assert_close(out[0, :, iz, iy, ix],
                               torch.tensor([1.0, 2.0, 3.0]))
    # mass: every in-grid frustum point lands once
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(2, 20, hf, wf, generator=g).requires_grad_()
    feats = torch.rand(2, 3, hf, wf, generator=g).requires_grad_()
    mats = torch.tensor(np.stack([l2c, l2c])).float()
    out = splat_frustum_to_voxels(probs, feats, mats,
                                  torch.tensor(np.stack([c2i, c2i])).float(),
                                  (h, w), pcr, vs, centres, 'exact')
    uu = u.numpy()
    inside = []
    for d in centres.tolist():
        # lateral / vertical offsets of every cell's ray at depth d
        y = -(uu - 47.5) / 60 * d
        vv = v.numpy()
        z = -(vv - 31.5) / 60 * d
        inside.append((d < 40) & (np.abs(y) < 20) & (z >= -4.5) &
                      (z < 3.5))
    inside = torch.tensor(np.stack(inside)).reshape(1, 20, 1, hf * wf)
    expected = (probs.reshape(2, 20, 1, -1) * feats.reshape(2, 1, 3, -1) *
                inside).sum((1, 3))
    torch.testing.assert_close(out.sum((2, 3, 4)), expected)
    out.sum().backward()
    assert probs.grad.abs().sum() > 0 and feats.grad.abs().sum() > 0


def test_lift_neck_splat_option_and_refusals():
    """DepthLiftNeck(lift_method='splat') with six cameras per sample sums
    their splats; 'mean' over cameras and an unknown method are refused at
    build time."""
    from cmkd_mmdet3d.models.necks import DepthLiftNeck
    kw = dict(point_cloud_range=[-8, -8, -2, 8, 8, 2],
              voxel_size=[1.0, 1.0, 2.0], num_bins=10, depth_min=1.0,
              depth_max=11.0, mode='UD', in_channels=4, out_channels=8,
              num_blocks=1)
    with pytest.raises(ValueError, match="lift_method must be one of"):
        DepthLiftNeck(**kw, lift_method='lss')
    with pytest.raises(ValueError, match="camera_reduce='sum'"):
        DepthLiftNeck(**kw, lift_method='splat', camera_reduce='mean')
    neck = DepthLiftNeck(**kw, lift_method='splat').eval()
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(12, 11, 4, 6, generator=g)
    feats = torch.randn(12, 4, 4, 6, generator=g)
    import math
    mats = []
    for yaw in range(0, 360, 60):
        a = math.radians(yaw)
        m = torch.eye(4)
        m[:3, :3] = torch.tensor([[math.sin(a), -math.cos(a), 0.0],
                                  [0.0, 0.0, -1.0],
                                  [math.cos(a), math.sin(a), 0.0]])
        mats.append(m)
    l2c = torch.stack(mats)[None].expand(2, -1, -1, -1)
    c2i = torch.tensor([[16.0, 0, 23.5, 0], [0, 16.0, 15.5, 0],
                        [0, 0, 1, 0]]).expand(2, 6, 3, 4)
    probs = logits.softmax(1)[:, :-1]
    from cmkd_mmdet3d.models.utils.frustum_lift import splat_frustum_to_voxels
    single = splat_frustum_to_voxels(
        probs, feats, l2c.reshape(-1, 4, 4), c2i.reshape(-1, 3, 4), (32, 48),
        kw['point_cloud_range'], kw['voxel_size'], neck.depth_bins.centres())
    summed = neck._splat(probs, feats, l2c, c2i, (32, 48))
    torch.testing.assert_close(summed,
                               single.reshape(2, 6, *single.shape[1:]).sum(1))
    with torch.no_grad():
        assert neck(logits, feats, l2c, c2i, (32, 48)).shape == (2, 8, 16, 16)
