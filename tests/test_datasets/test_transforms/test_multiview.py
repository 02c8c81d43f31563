"""The surround-view pipeline: several cameras per sample through
``ScaleImage3D``, ``MakeDepthTarget``, ``PackCMKDInputs`` and the BEV
augmentation moved onto the cameras (``BEVAugToCameras``)."""
import math

import numpy as np
import pytest
import torch
from mmdet3d.datasets.transforms import GlobalRotScaleTrans, RandomFlip3D
from mmdet3d.structures import LiDARInstance3DBoxes, LiDARPoints

from cmkd_mmdet3d.datasets.transforms import (BEVAugToCameras,
                                              MakeDepthTarget,
                                              PackCMKDInputs, ScaleImage3D)
from cmkd_mmdet3d.structures import bev_augmentation_matrix

H, W = 90, 160
K = np.array([[80.0, 0, 79.5], [0, 80.0, 44.5], [0, 0, 1]])


def _camera(yaw_deg):
    """lidar2cam of a camera at the LiDAR origin looking along yaw (x
    forward, y left, z up -> camera x right, y down, z forward)."""
    a = math.radians(yaw_deg)
    fwd = np.array([math.cos(a), math.sin(a), 0.0])
    right = np.array([math.sin(a), -math.cos(a), 0.0])
    down = np.array([0.0, 0.0, -1.0])
    m = np.eye(4)
    m[:3, :3] = np.stack([right, down, fwd])
    return m


YAWS = (0, 60, 120, 180, 240, 300)


def _results(seed=0, n=4000, time_lag=None):
    rng = np.random.default_rng(seed)
    r, t = rng.uniform(3, 40, n), rng.uniform(-math.pi, math.pi, n)
    xyz = np.stack([r * np.cos(t), r * np.sin(t), rng.uniform(-2, 1, n)], 1)
    cols = [xyz, rng.uniform(0, 1, (n, 1))]
    if time_lag is not None:
        cols.append(time_lag)
    pts = np.concatenate(cols, 1).astype(np.float32)
    return dict(
        points=LiDARPoints(pts, points_dim=pts.shape[1]),
        img=[rng.integers(0, 255, (H, W, 3)).astype(np.float32)
             for _ in YAWS],
        lidar2cam=[_camera(y) for y in YAWS],
        cam2img=[K.copy() for _ in YAWS],
        img_shape=(H, W), ori_shape=(H, W), sample_idx=7,
        gt_bboxes_3d=LiDARInstance3DBoxes(
            torch.tensor([[10.0, 2.0, -1.0, 4.0, 1.8, 1.5, 0.3]])),
        gt_labels_3d=np.array([0]))


def _pixels(xyz, l2c, c2i):
    cam = xyz @ l2c[:3, :3].T + l2c[:3, 3]
    uvw = cam @ np.asarray(c2i)[:3, :3].T
    return uvw[:, :2] / uvw[:, 2:], cam[:, 2]


def test_bev_augmentation_matrix_is_what_mmdet3d_did_to_the_points():
    """A from the recorded flow, rotation, scale, translation and flips maps
    the original points onto the ones mmdet3d's transforms produced."""
    np.random.seed(3)
    res = _results()
    original = res['points'].tensor[:, :3].numpy().astype(np.float64)
    res = GlobalRotScaleTrans(rot_range=[-0.4, 0.4],
                              scale_ratio_range=[0.9, 1.1],
                              translation_std=[0.5, 0.5, 0.2])(
        {k: v for k, v in res.items() if k != 'img'})
    res = RandomFlip3D(sync_2d=False, flip_ratio_bev_horizontal=1.0,
                       flip_ratio_bev_vertical=1.0)(res)
    assert res['transformation_3d_flow'] == ['R', 'S', 'T', 'HF', 'VF']
    a = bev_augmentation_matrix(res['transformation_3d_flow'],
                                res['pcd_rotation'],
                                res['pcd_scale_factor'], res['pcd_trans'])
    moved = original @ a[:3, :3].T + a[:3, 3]
    np.testing.assert_allclose(moved, res['points'].tensor[:, :3].numpy(),
                               atol=2e-4)
    # by hand: the two flips only negate x and y
    hf_vf = bev_augmentation_matrix(['HF', 'VF'])
    np.testing.assert_array_equal(np.diag(hf_vf), [-1, -1, 1, 1])
    with pytest.raises(ValueError, match="'R' needs pcd_rotation"):
        bev_augmentation_matrix(['R'])
    with pytest.raises(ValueError, match="unknown .* step 'X'"):
        bev_augmentation_matrix(['X'])


def test_cameras_follow_the_augmented_points():
    """After rotation, scale and both flips, every augmented point projects
    through the updated lidar2cam onto the pixel (and at the depth) its
    original point had in the original camera; the images are untouched."""
    np.random.seed(1)
    res = _results()
    before = res['points'].tensor[:, :3].numpy().astype(np.float64)
    imgs = [i.copy() for i in res['img']]
    l2c0 = [m.copy() for m in res['lidar2cam']]
    img = res.pop('img')
    res = GlobalRotScaleTrans(rot_range=[0.3, 0.3],
                              scale_ratio_range=[1.05, 1.05],
                              translation_std=[0, 0, 0])(res)
    res = RandomFlip3D(sync_2d=False, flip_ratio_bev_horizontal=1.0,
                       flip_ratio_bev_vertical=1.0)(res)
    res['img'] = img
    res = BEVAugToCameras()(res)
    after = res['points'].tensor[:, :3].numpy().astype(np.float64)
    assert not np.allclose(after, before, atol=1)
    for i in range(len(YAWS)):
        uv0, d0 = _pixels(before, l2c0[i], K)
        uv1, d1 = _pixels(after, np.asarray(res['lidar2cam'][i]), K)
        seen = (d0 > 0.5) & (np.abs(uv0 - [W / 2, H / 2]) < [W, H]).all(1)
        assert seen.sum() > 100
        np.testing.assert_allclose(uv1[seen], uv0[seen], atol=1e-3)
        np.testing.assert_allclose(d1, d0, atol=1e-4)
        assert np.array_equal(res['img'][i], imgs[i])
    # no augmentation: the cameras stay as they were
    res = BEVAugToCameras()(_results())
    np.testing.assert_array_equal(res['lidar2cam'][2], _camera(YAWS[2]))


def test_multiview_scale_depth_target_and_pack():
    """Every view is resized with its cam2img; the depth target has one map
    per view at the stride, made from the points each camera sees (a point
    straight ahead of camera 0 lands in view 0 at its depth only);
    max_time_lag keeps the key frame's points; packing stacks the views."""
    res = _results(n=4000)
    pts = res['points'].tensor.numpy()
    # nothing else near the optical axis of camera 0
    pts = pts[np.abs(np.arctan2(pts[:, 1], pts[:, 0])) > 0.3]
    # one point 20 m straight ahead of camera 0 and one 12 m ahead, swept
    pts = np.concatenate([pts, [[20, 0, 0, 0.5], [12, 0, 0, 0.5]]], 0)
    res['points'] = LiDARPoints(
        np.concatenate([pts, np.zeros((len(pts), 1))], 1).astype(np.float32),
        points_dim=5)
    res['points'].tensor[-1, 4] = 0.45
    res = ScaleImage3D(0.5)(res)
    assert all(i.shape == (45, 80, 3) for i in res['img'])
    np.testing.assert_allclose(np.asarray(res['cam2img'][3])[0, 0], 40.0)
    # cv2's pixel-centre alignment: c' = 0.5 c - 0.25
    np.testing.assert_allclose(np.asarray(res['cam2img'][3])[:2, 2],
                               [39.5, 22.0])
    full = MakeDepthTarget(stride=4)(dict(res))['gt_depth']
    key = MakeDepthTarget(stride=4, max_time_lag=0.0)(dict(res))
    depth = key['gt_depth']
    assert depth.shape == (6, 12, 20) == full.shape
    # the principal point (39.5, 22.0) of view 0: pixel (40, 22), cell
    # (22 // 4, 40 // 4) = (5, 10)
    assert depth[0, 5, 10] == pytest.approx(20.0)
    assert full[0, 5, 10] == pytest.approx(12.0)    # the swept point wins
    assert all(depth[i, 5, 10] != pytest.approx(20.0) for i in range(1, 6))
    packed = PackCMKDInputs(keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])(
        dict(key))
    assert packed['inputs']['img'].shape == (6, 3, 45, 80)
    assert packed['data_samples'].gt_depth.shape == (6, 12, 20)
    assert len(packed['data_samples'].metainfo['lidar2cam']) == 6
    bad = dict(key, gt_depth=depth[:5])
    with pytest.raises(ValueError, match=r'depth target \(5, 12, 20\)'):
        PackCMKDInputs(keys=['img'])(bad)
    with pytest.raises(ValueError, match='column'):
        MakeDepthTarget(max_time_lag=0.0)(dict(
            res, points=LiDARPoints(pts[:, :4].astype(np.float32),
                                    points_dim=4)))


def test_multiview_calibration_refusals():
    """A view whose cam2img does not fit it, or one matrix too few, is
    refused naming the view."""
    res = _results()
    res['cam2img'] = res['cam2img'][:5]
    with pytest.raises(ValueError, match='6 images for 5 cam2img'):
        MakeDepthTarget(stride=8)(res)
    res = _results()
    res['cam2img'][2] = np.array([[80.0, 0, 300], [0, 80, 44.5], [0, 0, 1]])
    with pytest.raises(ValueError, match='principal point'):
        MakeDepthTarget(stride=8)(res)


def test_crop_keeps_every_view_consistent_with_its_calibration():
    """CropImage3D (default: the bottom rows, centred columns, BEVDet's
    crop): every pixel of the crop is the pixel (u + left, v + top) of the
    view, and every point projects through the new cam2img onto the pixel
    it had, shifted by the offset; a crop larger than the view is
    refused."""
    from cmkd_mmdet3d.datasets.transforms import CropImage3D
    res = _results()
    xyz = res['points'].tensor[:, :3].numpy().astype(np.float64)
    before = [i.copy() for i in res['img']]
    uv0 = [_pixels(xyz, a, K)[0] for a in res['lidar2cam']]
    res = CropImage3D(size=(64, 150))(res)
    assert res['crop_offset'] == (5, 26)          # (160 - 150) // 2, 90 - 64
    for i in range(len(YAWS)):
        assert res['img'][i].shape == (64, 150, 3)
        np.testing.assert_array_equal(res['img'][i], before[i][26:, 5:155])
        uv1, _ = _pixels(xyz, res['lidar2cam'][i], res['cam2img'][i])
        np.testing.assert_allclose(uv1, uv0[i] - [5, 26], atol=1e-6)
    assert res['img_shape'] == (64, 150)
    with pytest.raises(ValueError, match='does not fit the 90x160 image'):
        CropImage3D(size=(64, 150), top=40)(_results())


def _bilinear(img, uv):
    """Sample (H, W, C) img at float pixel centres uv (N, 2)."""
    u0, v0 = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    fu, fv = (uv[:, 0] - u0)[:, None], (uv[:, 1] - v0)[:, None]
    return ((1 - fu) * (1 - fv) * img[v0, u0] + fu * (1 - fv) * img[v0, u0 + 1]
            + (1 - fu) * fv * img[v0 + 1, u0] + fu * fv * img[v0 + 1, u0 + 1])


def test_bevdet_image_aug_moves_content_and_calibration_together():
    """BEVDetImageAug3D: every view holds (u, v) of its original pixels
    (a linear ramp, which resizing and bilinear warping keep exact), so the
    content at the pixel where a point projects through the new cam2img
    must be the pixel it projected to before; views are drawn on their
    own (both flips occur), all come out final_size, and the depth targets
    and packing after it accept a principal point the bottom crop moved
    off the centre."""
    from cmkd_mmdet3d.datasets.transforms import BEVDetImageAug3D
    np.random.seed(1)
    res = _results(n=20000)
    vv, uu = np.mgrid[0:H, 0:W].astype(np.float32)
    res['img'] = [np.stack([uu, vv, np.ones_like(uu)], -1) for _ in YAWS]
    xyz = res['points'].tensor[:, :3].numpy().astype(np.float64)
    before = [_pixels(xyz, a, K) for a in res['lidar2cam']]
    aug = BEVDetImageAug3D(final_size=(48, 96), resize=(-0.06, 0.06),
                           rot=(-5.4, 5.4), flip=True)
    res = aug(res)
    flips = [m[0, 0] < 0 for m in res['img_aug_matrix']]
    assert any(flips) and not all(flips)
    assert res['img_shape'] == (48, 96)
    for i in range(len(YAWS)):
        img = res['img'][i]
        assert img.shape == (48, 96, 3)
        (uv0, d0), (uv1, d1) = before[i], _pixels(
            xyz, res['lidar2cam'][i], res['cam2img'][i])
        np.testing.assert_allclose(d1, d0)           # depth unchanged
        # inside the output, away from its border and from the pixels
        # that came from outside the view (channel 2 < 1)
        ok = (d0 > 0) & (uv1[:, 0] > 1) & (uv1[:, 0] < 94) & \
            (uv1[:, 1] > 1) & (uv1[:, 1] < 46) & (uv0[:, 0] > 2) & \
            (uv0[:, 0] < W - 3) & (uv0[:, 1] > 2) & (uv0[:, 1] < H - 3)
        assert ok.sum() > 50
        got = _bilinear(img, uv1[ok])
        ok2 = got[:, 2] > 0.999
        assert ok2.mean() > 0.9
        np.testing.assert_allclose(got[ok2, :2], uv0[ok][ok2], atol=0.15)
        np.testing.assert_allclose(
            res['img_aug_matrix'][i] @ np.r_[uv0[ok][0], 1],
            np.r_[uv1[ok][0], 1], atol=1e-6)
    res = BEVAugToCameras()(res)
    res = MakeDepthTarget(stride=8)(res)
    assert res['gt_depth'].shape == (6, 6, 12)
    packed = PackCMKDInputs(keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])(res)
    assert packed['inputs']['img'].shape == (6, 3, 48, 96)


def test_bevdet_image_aug_test_mode_and_refusals():
    """Test mode is CMKD-MV's fixed transform: scale W_out / W +
    resize_test, the bottom rows centred (160 -> 96 wide at 0.64: 102 x 57,
    left 3, top 9), nothing random; bad sizes and ranges are refused when
    the transform is built."""
    from cmkd_mmdet3d.datasets.transforms import BEVDetImageAug3D
    aug = BEVDetImageAug3D(final_size=(48, 96), resize=(-0.06, 0.06),
                           rot=(-5.4, 5.4), flip=True, resize_test=0.04,
                           test_mode=True)
    a, b = aug(_results()), aug(_results())
    for i in range(len(YAWS)):
        np.testing.assert_array_equal(a['img'][i], b['img'][i])
        np.testing.assert_allclose(
            a['img_aug_matrix'][i],
            [[102 / 160, 0, (102 / 160 - 1) / 2 - 3],
             [0, 57 / 90, (57 / 90 - 1) / 2 - 9], [0, 0, 1]], atol=1e-12)
    with pytest.raises(ValueError, match='final_size'):
        BEVDetImageAug3D(final_size=(0, 96))
    with pytest.raises(ValueError, match='rot must be'):
        BEVDetImageAug3D(final_size=(48, 96), rot=(5.4, -5.4))
