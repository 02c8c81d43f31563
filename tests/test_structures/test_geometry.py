"""structures.geometry against plain-Python values: pinhole projection by
hand, the FOV mask at the edge pixels, grid sizes (non-integer refused),
cell centres; one camera and a batch of cameras, numpy and torch."""
import numpy as np
import pytest
import torch

from cmkd_mmdet3d.structures import (bev_cell_centers, box_foreground_mask,
                                     box_instance_maps, cell_centers,
                                     compose_lidar2img, fov_mask, grid_size,
                                     points_in_fov, project_points,
                                     project_to_image, to_homogeneous,
                                     transform_points, unproject_from_image)
from cmkd_mmdet3d.structures.geometry import GRID_TOLERANCE

# a pinhole camera: f = 100 px, principal point (50, 40), image 80 x 100;
# LiDAR (x fwd, y left, z up) -> camera (x right, y down, z fwd), shifted
F, CU, CV = 100.0, 50.0, 40.0
H, W = 80, 100
K = [[F, 0.0, CU], [0.0, F, CV], [0.0, 0.0, 1.0]]
L2C = [[0.0, -1.0, 0.0, 0.5], [0.0, 0.0, -1.0, 0.25], [1.0, 0.0, 0.0, -1.0],
       [0.0, 0.0, 0.0, 1.0]]
PTS = [[11.0, 0.0, 0.0], [6.0, 1.0, 0.5], [3.0, -2.0, -1.0], [21.0, 4.0, 2.0]]


def _by_hand(p, k=K, l2c=L2C, tz=0.0):
    """u, v, w' - tz of one point with plain Python arithmetic."""
    cam = [sum(l2c[i][j] * v for j, v in enumerate(list(p) + [1.0]))
           for i in range(3)]
    uvw = [sum(k[i][j] * cam[j] for j in range(3)) for i in range(3)]
    uvw[2] += tz
    return uvw[0] / uvw[2], uvw[1] / uvw[2], uvw[2] - tz


def test_pinhole_projection_by_hand():
    # point 0: camera (0.5, 0.25, 10) -> u = 50 + 100 * 0.05 = 55, v = 42.5
    uv, d = project_points(np.array(PTS), compose_lidar2img(L2C, K))
    assert uv.shape == (4, 2) and d.shape == (4,)
    np.testing.assert_allclose(uv[0], [55.0, 42.5])
    assert d[0] == pytest.approx(10.0)
    for p, (u, v), dd in zip(PTS, uv, d):
        hu, hv, hd = _by_hand(p)
        assert (u, v, dd) == pytest.approx((hu, hv, hd), rel=1e-12)


def test_depth_offset_is_kitti_rectified_depth():
    # a P2-like 3x4 with a translation in its third row
    p2 = [K[0] + [4.0], K[1] + [2.0], K[2] + [0.5]]
    uvd = project_to_image(np.array(PTS), np.array(L2C), np.array(p2))
    for p, row in zip(PTS, uvd):
        l2c = [r[:] for r in L2C]
        cam = [sum(l2c[i][j] * v for j, v in enumerate(list(p) + [1.0]))
               for i in range(3)]
        uvw = [sum(p2[i][j] * cam[j] for j in range(3)) + p2[i][3]
               for i in range(3)]
        assert tuple(row) == pytest.approx(
            (uvw[0] / uvw[2], uvw[1] / uvw[2], cam[2]), rel=1e-12)
    back = unproject_from_image(uvd, np.array(L2C), np.array(p2))
    np.testing.assert_allclose(back, PTS, atol=1e-9)


def test_torch_matches_numpy_and_min_w():
    m = compose_lidar2img(L2C, K)
    uv_n, d_n = project_points(np.array(PTS), m)
    uv_t, d_t = project_points(torch.tensor(PTS, dtype=torch.float64), m)
    assert isinstance(uv_t, torch.Tensor) and uv_t.dtype == torch.float64
    np.testing.assert_allclose(uv_t.numpy(), uv_n, rtol=1e-12)
    np.testing.assert_allclose(d_t.numpy(), d_n, rtol=1e-12)
    # behind the camera: w clamped, the point lands far out on its side
    behind = np.array([[-2.0, -1.0, 0.0]])  # camera (1.5, 0.25, -3)
    uv, d = project_points(behind, m, min_w=1e-3)
    assert d[0] == pytest.approx(-3.0)
    assert uv[0, 0] == pytest.approx((F * 1.5 + CU * -3.0) / 1e-3)


def test_batch_of_cameras_broadcasts():
    # three cameras: the one above, a second with f doubled, a third turned
    # 90 degrees to the left (looking along LiDAR +y)
    k2 = [[2 * F, 0, CU], [0, 2 * F, CV], [0, 0, 1]]
    l2c3 = [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0],
            [0.0, 1.0, 0.0, 0.5], [0.0, 0.0, 0.0, 1.0]]
    ks, l2cs = [K, k2, K], [L2C, L2C, l2c3]
    l2i = compose_lidar2img(np.array(l2cs), np.array(ks))
    assert l2i.shape == (3, 4, 4)
    uv, d = project_points(np.array(PTS), l2i)
    assert uv.shape == (3, 4, 2) and d.shape == (3, 4)
    for c in range(3):
        for i, p in enumerate(PTS):
            hu, hv, hd = _by_hand(p, ks[c], l2cs[c])
            assert (uv[c, i, 0], uv[c, i, 1], d[c, i]) == pytest.approx(
                (hu, hv, hd), rel=1e-12)
    # (N_cam, 3, 4) torch, points per camera (N_cam, N, 3), offsets per cam
    t = torch.tensor(l2i[:, :3])
    pts = torch.tensor(PTS, dtype=torch.float64).expand(3, 4, 3)
    uv_t, d_t = project_points(pts, t, depth_offset=torch.tensor([0., 1, 2]))
    np.testing.assert_allclose(uv_t.numpy(), uv, rtol=1e-12)
    np.testing.assert_allclose(d_t.numpy(), d - np.array([[0.], [1], [2]]))
    # per-camera image shapes in the FOV mask
    shapes = np.array([[H, W], [H, W], [1, 1]])
    m = fov_mask(uv, d, shapes)
    assert m.shape == (3, 4)
    expect = [[0 <= uv[c, i, 0] < shapes[c, 1] and
               0 <= uv[c, i, 1] < shapes[c, 0] and d[c, i] >= 0
               for i in range(4)] for c in range(3)]
    assert m.tolist() == expect
    assert torch.equal(fov_mask(uv_t, d_t, (H, W)),
                       torch.from_numpy(fov_mask(uv, d - np.array(
                           [[0.], [1], [2]]), (H, W))))


@pytest.mark.parametrize('as_torch', [False, True])
def test_fov_mask_edge_pixels(as_torch):
    # pixel u is inside iff 0 <= u < W (the reference's get_fov_flag)
    u = [0.0, -1e-9, W - 1e-9, float(W), 10.0, 10.0, 10.0, 10.0, 10.0,
         float('nan')]
    v = [10.0, 10.0, 10.0, 10.0, 0.0, -1e-9, H - 1e-9, float(H), 10.0, 10.0]
    d = [1.0] * 8 + [-1e-9, 1.0]
    expect = [True, False, True, False, True, False, True, False, False,
              False]
    uv = np.stack([u, v], 1)
    dd = np.array(d)
    if as_torch:
        uv, dd = torch.tensor(uv), torch.tensor(dd)
    m = fov_mask(uv, dd, (H, W, 3))
    assert list(map(bool, m)) == expect
    # depth exactly 0 counts as in front (depth >= 0)
    assert bool(fov_mask(uv[:1], dd[:1] * 0, (H, W))[0])


def test_points_in_fov_one_camera():
    pts = np.array(PTS + [[-5.0, 0.0, 0.0], [11.0, 6.0, 0.0]])
    got = points_in_fov(pts, np.array(L2C), to_homogeneous(K)[:3], (H, W))
    expect = []
    for p in pts:
        u, v, d = _by_hand(p)
        expect.append(d >= 0 and 0 <= u < W and 0 <= v < H)
    assert got.tolist() == expect
    assert any(expect) and not all(expect)


def test_homogeneous_padding_and_transform():
    np.testing.assert_array_equal(
        to_homogeneous(np.array(K)),
        [[F, 0, CU, 0], [0, F, CV, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    p34 = np.arange(12.0).reshape(3, 4)
    out = to_homogeneous(np.stack([p34, 2 * p34]))
    assert out.shape == (2, 4, 4)
    np.testing.assert_array_equal(out[1, :3], 2 * p34)
    np.testing.assert_array_equal(out[:, 3], [[0, 0, 0, 1]] * 2)
    t = to_homogeneous(torch.tensor(K, dtype=torch.float32))
    assert t.dtype == torch.float32 and t[3, 3] == 1
    with pytest.raises(ValueError, match='3|4'):
        to_homogeneous(np.zeros((2, 4)))
    cam = transform_points(np.array(PTS[:1]), L2C)
    np.testing.assert_allclose(cam, [[0.5, 0.25, 10.0]])


@pytest.mark.parametrize('pcr,vs,expect', [
    ([0, -40, -3, 70.4, 40, 1], [0.05, 0.05, 0.1], (1408, 1600, 40)),
    ([2, -30.08, -3, 46.8, 30.08, 1], [0.16, 0.16, 0.16], (280, 376, 25)),
    ([0, -39.68, -3, 69.12, 39.68, 1], [0.16, 0.16, 4], (432, 496, 1)),
])
def test_grid_size(pcr, vs, expect):
    got = grid_size(pcr, vs)
    assert got == expect and all(type(n) is int for n in got)
    assert grid_size(pcr, vs, dims=2) == expect[:2]


def test_grid_size_refuses_bad_grids():
    # 70 / 0.3 = 233.33 voxels
    with pytest.raises(ValueError, match=r'x extent 70 m .* not a multiple '
                       r'of voxel_size\[0\] = 0.3 \(233.3333 voxels\)'):
        grid_size([0, 0, 0, 70, 10, 1], [0.3, 0.5, 1.0], owner='Neck')
    with pytest.raises(ValueError, match=r'Neck: voxel_size\[1\] \(y\) must '
                       'be a positive'):
        grid_size([0, 0, 0, 10, 10, 1], [0.5, 0.0, 1.0], owner='Neck')
    with pytest.raises(ValueError, match='z range must be finite'):
        grid_size([0, 0, 1, 10, 10, 1], [0.5, 0.5, 1.0])
    with pytest.raises(ValueError, match='needs 6 values'):
        grid_size([0, 0, 10, 10], [0.5, 0.5, 1.0])
    # z not checked with dims=2 (a pillar grid)
    assert grid_size([0, 0, -3, 10, 10, 1], [0.5, 0.5, 3.0], dims=2) == \
        (20, 20)
    # within the tolerance, and rounding without it
    assert grid_size([0, 0, 0, 60.16, 1, 1], [0.32, 1, 1]) == (188, 1, 1)
    assert GRID_TOLERANCE > 0
    assert grid_size([0, 0, 0, 70, 10, 1], [0.3, 0.5, 1.0],
                     tolerance=None) == (233, 20, 1)


def test_check_voxel_grid_uses_grid_size():
    from cmkd_mmdet3d.models.utils.config_checks import check_voxel_grid
    assert check_voxel_grid([0, -40, -3, 70.4, 40, 1],
                            [0.05, 0.05, 0.1]) == (1408, 1600, 40)
    with pytest.raises(ValueError, match='Neck: point_cloud_range x extent'):
        check_voxel_grid([0, 0, 0, 70, 10, 1], [0.3, 0.5, 1.0], 'Neck')


def test_cell_centers():
    xs, ys = bev_cell_centers([0, -2, -3, 2, 2, 1], [0.5, 1.0, 4.0])
    assert xs.tolist() == [0.25, 0.75, 1.25, 1.75]
    assert ys.tolist() == [-1.5, -0.5, 0.5, 1.5]
    xs, ys, zs = cell_centers([0, -2, -3, 2, 2, 1], [0.5, 1.0, 2.0])
    assert zs.tolist() == [-2.0, 0.0]
    # a strided BEV map with a given (X, Y) shape, as torch
    xs, ys = bev_cell_centers([0, -2, -3, 2, 2, 1], [1.5, 1.5], (2, 3),
                              device='cpu')
    assert xs.dtype == torch.float32
    assert xs.tolist() == [0.75, 2.25] and ys.tolist() == [-1.25, 0.25, 1.75]


def _box_corners(x, y, z):
    """(1, 8, 3) corners of the axis-aligned box x[0]..x[1], ... (LiDAR)."""
    return torch.tensor([[[a, b, c] for a in x for b in y for c in z]],
                        dtype=torch.float64)


def test_box_foreground_mask_by_hand():
    """The box x 11..21, y -1..1, z -0.5..0.5 m projects (by hand, through
    L2C and K) to u 45..65, v 37.5..47.5 px; on a 10 x 10 feature map of
    the 80 x 100 image a cell is 8 px high and 10 px wide, so the mask is
    rows floor(37.5/8)=4 .. ceil(47.5/8)=6 (exclusive) and columns
    floor(45/10)=4 .. ceil(65/10)=7 (exclusive)."""
    l2i = compose_lidar2img(torch.tensor(L2C, dtype=torch.float64),
                            torch.tensor(K, dtype=torch.float64))
    box = _box_corners((11.0, 21.0), (-1.0, 1.0), (-0.5, 0.5))
    us, vs = zip(*[_by_hand(p)[:2] for p in box[0].tolist()])
    assert (min(us), max(us), min(vs), max(vs)) == pytest.approx(
        (45.0, 65.0, 37.5, 47.5))
    mask = box_foreground_mask(box, l2i, (H, W), (10, 10))
    expect = torch.zeros(10, 10, dtype=torch.bool)
    expect[4:6, 4:7] = True
    assert torch.equal(mask, expect)
    # no boxes, and a box wholly behind the camera: no foreground
    assert not box_foreground_mask(box[:0], l2i, (H, W), (10, 10)).any()
    behind = _box_corners((-5.0, -3.0), (-1.0, 1.0), (-0.5, 0.5))
    assert not box_foreground_mask(behind, l2i, (H, W), (10, 10)).any()
    # a box through the image plane covers at least its visible part's box
    straddle = _box_corners((0.0, 5.0), (-1.0, 1.0), (-0.5, 0.5))
    front = _box_corners((1.5, 5.0), (-1.0, 1.0), (-0.5, 0.5))
    m_straddle = box_foreground_mask(straddle, l2i, (H, W), (10, 10))
    m_front = box_foreground_mask(front, l2i, (H, W), (10, 10))
    assert m_front.any() and (m_straddle | m_front).equal(m_straddle)
    # two boxes: the union
    both = torch.cat([box, front])
    assert box_foreground_mask(both, l2i, (H, W), (10, 10)).equal(
        mask | m_front)
    with pytest.raises(ValueError, match=r'\(N, 8, 3\)'):
        box_foreground_mask(box[0], l2i, (H, W), (10, 10))


def test_box_instance_maps_by_hand():
    """The box above (image box v 37.5..47.5, 10 px high; centre (16, 0, 0)
    at w' = 16 - 1 = 15 m by hand) fills its mask cells with height 10 and
    depth 15; a nearer box overlapping it (x 6..8, centre at w' 6 m) wins
    the shared cells; the mask is box_foreground_mask's."""
    l2i = compose_lidar2img(torch.tensor(L2C, dtype=torch.float64),
                            torch.tensor(K, dtype=torch.float64))
    box = _box_corners((11.0, 21.0), (-1.0, 1.0), (-0.5, 0.5))
    assert _by_hand((16.0, 0.0, 0.0))[2] == pytest.approx(15.0)
    mask, height, depth = box_instance_maps(box, l2i, (H, W), (10, 10))
    assert mask.equal(box_foreground_mask(box, l2i, (H, W), (10, 10)))
    assert torch.allclose(height[mask], torch.full_like(height[mask], 10.0))
    assert torch.allclose(depth[mask], torch.full_like(depth[mask], 15.0))
    assert not height[~mask].any() and not depth[~mask].any()
    near = _box_corners((6.0, 8.0), (-0.2, 0.2), (-0.5, 0.5))
    vs = [_by_hand(p)[1] for p in near[0].tolist()]
    m_near = box_foreground_mask(near, l2i, (H, W), (10, 10))
    assert (m_near & mask).any() and not m_near.equal(mask)
    for order in ((box, near), (near, box)):     # the order does not matter
        m2, h2, d2 = box_instance_maps(torch.cat(order), l2i, (H, W),
                                       (10, 10))
        assert m2.equal(mask | m_near)
        assert torch.allclose(d2[m_near], torch.full_like(d2[m_near], 6.0))
        assert torch.allclose(h2[m_near], torch.full_like(
            h2[m_near], max(vs) - min(vs)))
        only_far = mask & ~m_near
        assert torch.allclose(d2[only_far],
                              torch.full_like(d2[only_far], 15.0))
    empty = box_instance_maps(box[:0], l2i, (H, W), (10, 10))
    assert [t.shape for t in empty] == [(10, 10)] * 3
    assert not any(t.any() for t in empty)
