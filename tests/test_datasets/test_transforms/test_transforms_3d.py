"""Camera-student pipeline: image-space flip, FOV filter, depth targets,
image scaling, depth-map loading; numbers against plain reference
formulations."""
import math

import cv2
import numpy as np
import pytest
import torch

from cmkd_mmdet3d.datasets.transforms import (depth_map_from_points,
                                              mirror_through_image,
                                              project_to_image,
                                              sparse_avg_pool)
from cmkd_mmdet3d.structures import points_in_fov
from cmkd_mmdet3d.testing.synthetic.geometry import (KITTI_P2,
                                                     calibration_for_date)

from _helpers.datasets import _pipeline


CAL = calibration_for_date('2011_09_29')


L2C, C2I = CAL.lidar2cam, CAL.cam2img


H, W = 375, 1242


def _points(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(3, 45, n), rng.uniform(-20, 20, n),
                     rng.uniform(-2, 1, n)], 1)


def _pixel_by_hand(p):
    """u, v of one LiDAR point with plain Python arithmetic."""
    q = [sum(L2C[i][j] * v for j, v in enumerate(list(p) + [1.0]))
         for i in range(4)]
    r = [sum(C2I[i][j] * q[j] for j in range(4)) for i in range(3)]
    return r[0] / r[2], r[1] / r[2], r[2] - C2I[2][3]


@pytest.mark.parametrize('align,offset', [('caddn', W), ('exact', W - 1)])
def test_flipped_point_projects_onto_mirrored_pixel(align, offset):
    pts = _points()
    flipped = mirror_through_image(pts, L2C, C2I, W, align)
    for p, f in zip(pts[:20], flipped[:20]):
        u, v, d = _pixel_by_hand(p)
        uf, vf, df = _pixel_by_hand(f)
        assert uf == pytest.approx(offset - u, abs=1e-6)
        assert vf == pytest.approx(v, abs=1e-6)
        assert df == pytest.approx(d, abs=1e-9)
    # flipping twice is the identity
    back = mirror_through_image(flipped, L2C, C2I, W, align)
    np.testing.assert_allclose(back, pts, atol=1e-9)


def test_projection_and_fov_against_independent_code():
    pts = _points(2000, seed=1)
    uvd = project_to_image(pts, L2C, C2I)
    for p, row in zip(pts[:10], uvd[:10]):
        np.testing.assert_allclose(row, _pixel_by_hand(p), rtol=1e-12)
    # the FOV test against plain Python: 0 <= u < W, 0 <= v < H, depth >= 0
    expect = []
    for p in pts:
        u, v, d = _pixel_by_hand(p)
        expect.append(d >= 0 and 0 <= u < W and 0 <= v < H)
    assert points_in_fov(pts, L2C, C2I, (H, W)).tolist() == expect
    assert 0 < sum(expect) < len(expect)


def test_depth_map_nearest_point_wins():
    pts = _points(300, seed=2)
    uvd = project_to_image(pts, L2C, C2I)
    # a second point on the ray of point 0, twice as far
    far = pts[:1] * 0
    uvd_far = uvd[:1].copy()
    uvd_far[0, 2] *= 2
    from cmkd_mmdet3d.datasets.transforms import unproject_from_image
    far = unproject_from_image(uvd_far, L2C, C2I)
    dm = depth_map_from_points(np.concatenate([pts, far]), L2C, C2I, (H, W))
    ref = {}
    for (u, v, d) in uvd:
        c, r = int(round(u)), int(round(v))
        if d > 0 and 0 <= c < W and 0 <= r < H:
            ref[(r, c)] = min(ref.get((r, c), math.inf), d)
    assert len(ref) > 50
    assert np.count_nonzero(dm) == len(ref)
    for (r, c), d in ref.items():
        assert dm[r, c] == pytest.approx(d, rel=1e-6)


def test_sparse_avg_pool_by_hand():
    d = np.zeros((5, 6), np.float32)
    d[0, 0], d[1, 1] = 2.0, 4.0          # block (0, 0): mean 3
    d[0, 5] = 10.0                       # block (0, 2): 10
    d[4, 0] = np.nan                     # invalid, block (2, 0) stays 0
    d[4, 5] = 7.0                        # block (2, 2), partial block
    out = sparse_avg_pool(d, 2)
    expected = np.zeros((3, 3), np.float32)
    expected[0, 0], expected[0, 2], expected[2, 2] = 3.0, 10.0, 7.0
    np.testing.assert_array_equal(out, expected)


def test_scale_image_keeps_projection_consistent():
    from cmkd_mmdet3d.datasets.transforms import ScaleImage3D
    img = np.zeros((H, W, 3), np.uint8)
    res = ScaleImage3D(0.5).transform(
        dict(img=img, cam2img=C2I.copy(), lidar2cam=L2C.copy()))
    h2, w2 = res['img'].shape[:2]
    assert (h2, w2) == (188, 621)
    sx, sy = w2 / W, h2 / H
    pts = _points(50, seed=3)
    before = project_to_image(pts, L2C, C2I)
    after = project_to_image(pts, L2C, res['cam2img'])
    # cv2.resize aligns pixel centres
    np.testing.assert_allclose(after[:, 0], sx * (before[:, 0] + 0.5) - 0.5,
                               atol=1e-6)
    np.testing.assert_allclose(after[:, 1], sy * (before[:, 1] + 0.5) - 0.5,
                               atol=1e-6)
    np.testing.assert_allclose(after[:, 2], before[:, 2], atol=1e-9)
    np.testing.assert_allclose(res['lidar2img'][:3],
                               res['cam2img'][:3] @ L2C, atol=1e-9)
    assert res['img_shape'] == (188, 621)
    assert 'pad_shape' not in res
    # a single view's pad_shape, where a loader set one, follows the image
    res = ScaleImage3D(0.5).transform(
        dict(img=img, cam2img=C2I.copy(), pad_shape=(H, W)))
    assert res['pad_shape'] == res['img_shape'] == (188, 621)


def _student_pipeline(flip_ratio=0.0, align='caddn', scale=None):
    """The depth-target pipeline of _helpers with ImageSpaceFlip3D before
    MakeDepthTarget (and ScaleImage3D after the image loader)."""
    p = _pipeline()
    p.insert(-2, dict(type='ImageSpaceFlip3D', flip_ratio=flip_ratio,
                      align=align))
    if scale:
        p.insert(2, dict(type='ScaleImage3D', scale=scale))
    return p


def _dataset(root, pipeline):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    return DATASETS.build(dict(
        type='KittiDataset', data_root=root.rstrip('/') + '/',
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=True), pipeline=pipeline,
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))


def test_depth_target_of_a_synthetic_frame(synthetic_world):
    sample = _dataset(synthetic_world, _student_pipeline())[0]
    meta = sample['data_samples'].metainfo
    h, w = meta['img_shape'][:2]
    target = sample['data_samples'].gt_depth.numpy()
    assert target.shape == (math.ceil(h / 8), math.ceil(w / 8))
    # plain reference: nearest point per pixel, then mean per 8 x 8 block
    pts = sample['inputs']['points'][:, :3].numpy().astype(np.float64)
    uvd = project_to_image(pts, np.asarray(meta['lidar2cam']),
                           np.asarray(meta['cam2img']))
    pixel = {}
    for u, v, d in uvd:
        c, r = int(round(u)), int(round(v))
        if d > 0 and 0 <= c < w and 0 <= r < h:
            pixel[(r, c)] = min(pixel.get((r, c), math.inf), d)
    blocks = {}
    for (r, c), d in pixel.items():
        blocks.setdefault((r // 8, c // 8), []).append(d)
    ref = np.zeros_like(target)
    for (r, c), ds in blocks.items():
        ref[r, c] = np.mean(ds)
    np.testing.assert_allclose(target, ref, rtol=1e-5)
    # every FOV point falls into the image; depths are within the sweep
    assert np.count_nonzero(target) > 100
    assert 0 < target[target > 0].min() and target.max() < 125


@pytest.mark.parametrize('align', ['caddn', 'exact'])
def test_flip_in_the_pipeline_moves_everything_together(synthetic_world,
                                                        align):
    plain = _dataset(synthetic_world, _student_pipeline(0.0))[1]
    flip = _dataset(synthetic_world, _student_pipeline(1.0, align))[1]
    img0, img1 = plain['inputs']['img'], flip['inputs']['img']
    assert torch.equal(img1, img0.flip(-1))
    meta = flip['data_samples'].metainfo
    assert meta['flip'] is True
    np.testing.assert_array_equal(meta['cam2img'],
                                  plain['data_samples'].metainfo['cam2img'])
    w = img0.shape[-1]
    off = w if align == 'caddn' else w - 1
    l2c, c2i = np.asarray(meta['lidar2cam']), np.asarray(meta['cam2img'])
    p0 = project_to_image(plain['inputs']['points'][:, :3].double().numpy(),
                          l2c, c2i)
    p1 = project_to_image(flip['inputs']['points'][:, :3].double().numpy(),
                          l2c, c2i)
    # float32 point storage: a few 1e-4 px
    np.testing.assert_allclose(p1[:, 0], off - p0[:, 0], atol=2e-3)
    np.testing.assert_allclose(p1[:, 1:], p0[:, 1:], atol=2e-3)
    b0 = plain['data_samples'].gt_instances_3d.bboxes_3d.tensor
    b1 = flip['data_samples'].gt_instances_3d.bboxes_3d.tensor
    assert len(b0) == len(b1) > 0
    c0 = project_to_image(b0[:, :3].double().numpy(), l2c, c2i)
    c1 = project_to_image(b1[:, :3].double().numpy(), l2c, c2i)
    np.testing.assert_allclose(c1[:, 0], off - c0[:, 0], atol=2e-3)
    torch.testing.assert_close(b1[:, 6], -b0[:, 6])
    torch.testing.assert_close(b1[:, 3:6], b0[:, 3:6])
    # the depth target of the flipped sample is the mirror of the plain one
    # up to the pixel rounding of the mirrored points
    d0 = plain['data_samples'].gt_depth
    d1 = flip['data_samples'].gt_depth
    assert d0.shape == d1.shape
    assert abs(int((d1 > 0).sum()) - int((d0 > 0).sum())) < \
        0.05 * int((d0 > 0).sum())


def test_scaled_pipeline_depth_target_shape(synthetic_world):
    sample = _dataset(synthetic_world, _student_pipeline(scale=0.5))[0]
    img = sample['inputs']['img']
    assert tuple(img.shape[-2:]) == (188, 621)
    assert tuple(sample['data_samples'].gt_depth.shape) == (24, 78)


def test_load_depth_map_png_and_errors(tmp_path):
    from cmkd_mmdet3d.datasets.transforms import (LoadDepthMap,
                                                  MakeDepthTarget)
    img_dir, depth_dir = tmp_path / 'image_2', tmp_path / 'depth_2'
    img_dir.mkdir()
    depth_dir.mkdir()
    depth = np.zeros((16, 24), np.uint16)
    depth[3, 5] = 256 * 12 + 64               # 12.25 m
    cv2.imwrite(str(depth_dir / '000001.png'), depth)
    res = dict(img_path=str(img_dir / '000001.png'),
               img=np.zeros((16, 24, 3), np.uint8))
    out = LoadDepthMap().transform(dict(res))
    assert out['depth_map'][3, 5] == pytest.approx(12.25)
    assert np.count_nonzero(out['depth_map']) == 1
    pooled = MakeDepthTarget(stride=8).transform(out)['gt_depth']
    assert pooled.shape == (2, 3) and pooled[0, 0] == pytest.approx(12.25)
    # absent file: nothing loaded, or an error naming the path
    miss = dict(img_path=str(img_dir / '000002.png'), img=res['img'])
    assert 'depth_map' not in LoadDepthMap().transform(dict(miss))
    with pytest.raises(FileNotFoundError, match='000002.png'):
        LoadDepthMap(required=True).transform(dict(miss))
    # size mismatch names both files
    with pytest.raises(ValueError, match='depth_2.*000001.png.*is'):
        LoadDepthMap().transform(
            dict(res, img=np.zeros((8, 8, 3), np.uint8)))
    # non-finite depth maps are refused with the file name
    bad = dict(depth_map=np.full((16, 24), np.nan, np.float32),
               depth_path='some/depth_2/000009.png')
    with pytest.raises(ValueError, match='000009.png.*non-finite'):
        MakeDepthTarget().transform(bad)


def test_bad_calibration_and_empty_sweep_fail_early():
    from mmdet3d.structures import LiDARPoints

    from cmkd_mmdet3d.datasets.transforms import FOVFilterPoints
    img = np.zeros((H, W, 3), np.uint8)
    pts = LiDARPoints(torch.tensor([[-10.0, 0.0, 0.0, 0.5]]), points_dim=4)
    base = dict(img=img, points=pts, lidar2cam=L2C, cam2img=KITTI_P2,
                img_path='x/image_2/000007.png')
    with pytest.raises(ValueError, match='000007.png.*empty sweep'):
        FOVFilterPoints().transform(dict(base))
    with pytest.raises(ValueError, match='lidar2cam of .*000007.png.*4x4'):
        FOVFilterPoints().transform(dict(base, lidar2cam=L2C[:3]))
    with pytest.raises(KeyError, match='cam2img'):
        FOVFilterPoints().transform(
            {k: v for k, v in base.items() if k != 'cam2img'})


# a level front camera in a vehicle frame (x forward, y left, z up): focal
# 100 px, principal point (50, 40), image 80 x 100
_V2C = np.array([[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1.]])
_K = np.array([[100, 0, 50, 0], [0, 100, 40, 0], [0, 0, 1, 0.]])


def _lidar_only_results(points, boxes):
    from mmdet3d.structures import LiDARInstance3DBoxes, LiDARPoints
    return dict(
        points=LiDARPoints(torch.tensor(points, dtype=torch.float32),
                           points_dim=4),
        gt_bboxes_3d=LiDARInstance3DBoxes(torch.tensor(boxes).float()),
        gt_labels_3d=np.arange(len(boxes)), lidar2cam=_V2C, cam2img=_K,
        img_path='cam/0.png', lidar_path='pts/0.bin',
        images=dict(CAM_FRONT=dict(img_path='cam/0.png', height=80,
                                   width=100)))


def test_fov_filters_without_an_image_use_the_info_size():
    from cmkd_mmdet3d.datasets.transforms import (FOVFilterPoints,
                                                  ObjectFOVFilter)
    # u = 50 - 100 y / x, v = 40 - 100 z / x: at x = 10, y = 4.9 gives
    # u = 1 (inside), y = 5.1 gives u = -1 (outside); z = -3.9 gives
    # v = 79 (inside), z = -4.1 gives v = 81 (outside); x < 0 is behind
    points = [[10, 4.9, 0, 1], [10, 5.1, 0, 1], [10, 0, -3.9, 1],
              [10, 0, -4.1, 1], [-10, 0, 0, 1]]
    # centres at half height (z bottom + 0.5): (20, 9, 0.5) inside
    # (u = 5), (20, 11, 0.5) outside (u = -5), (-5, 0, 0.5) behind
    boxes = [[20, 9, 0, 4, 2, 1, 0], [20, 11, 0, 4, 2, 1, 0],
             [-5, 0, 0, 4, 2, 1, 0]]
    results = FOVFilterPoints().transform(_lidar_only_results(points,
                                                              boxes))
    np.testing.assert_allclose(results['points'].tensor[:, :3].numpy(),
                               [[10, 4.9, 0], [10, 0, -3.9]], rtol=1e-6)
    assert results['img_shape'] == (80, 100)
    results = ObjectFOVFilter().transform(results)
    assert results['gt_labels_3d'].tolist() == [0]
    np.testing.assert_allclose(results['gt_bboxes_3d'].tensor[0, :2],
                               [20, 9])
    # no image and no size in the info: the message says what to do
    bare = _lidar_only_results(points, boxes)
    bare['images'] = {}
    with pytest.raises(KeyError, match='height / width in the info'):
        ObjectFOVFilter().transform(bare)
    # several views: refused, not silently wrong
    views = _lidar_only_results(points, boxes)
    views.update(lidar2cam=[_V2C, _V2C], cam2img=[_K, _K],
                 img_path=['a.png', 'b.png'])
    with pytest.raises(ValueError, match='several views'):
        ObjectFOVFilter().transform(views)
