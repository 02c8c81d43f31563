"""ImageSpaceFlip3D(projection=...): the reference's rect_to_img mirror
(divides by the rectified z) against the geometric one (divides by
z + P2[2, 3]): a constant W * P2[2, 3] / f_u along the camera x axis."""
import numpy as np
import pytest

from cmkd_mmdet3d.datasets.transforms import mirror_through_image
from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date


CAL = calibration_for_date('2011_09_29')


L2C, C2I = CAL.lidar2cam, CAL.cam2img


W = 1242


def _points(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(3, 45, n), rng.uniform(-20, 20, n),
                     rng.uniform(-2, 1, n)], 1)


def _to_cam(xyz):
    return xyz @ L2C[:3, :3].T + L2C[:3, 3]


@pytest.mark.parametrize('align,off', [('caddn', W), ('exact', W - 1)])
def test_reference_mirror_by_hand(align, off):
    """OpenPCDet's pair: u = (fu x + cu z + P03) / z, back with
    x = (u - cu) z / fu - P03 / fu, so x' = (off - 2 cu) z / fu - x
    - 2 P03 / fu, y and z unchanged (P2 of KITTI form)."""
    fu, cu, p03 = C2I[0, 0], C2I[0, 2], C2I[0, 3]
    assert C2I[0, 1] == 0 and list(C2I[2, :3]) == [0, 0, 1]
    pts = _points()
    ref = _to_cam(mirror_through_image(pts, L2C, C2I, W, align,
                                       projection='reference'))
    cam = _to_cam(pts)
    x = (off - 2 * cu) * cam[:, 2] / fu - cam[:, 0] - 2 * p03 / fu
    np.testing.assert_allclose(ref[:, 0], x, atol=1e-9)
    np.testing.assert_allclose(ref[:, 1:], cam[:, 1:], atol=1e-9)
    # an involution, like the geometric mirror
    back = mirror_through_image(
        mirror_through_image(pts, L2C, C2I, W, align, 'reference'), L2C,
        C2I, W, align, 'reference')
    np.testing.assert_allclose(back, pts, atol=1e-9)


@pytest.mark.parametrize('align,off', [('caddn', W), ('exact', W - 1)])
def test_reference_and_geometric_differ_by_a_constant(align, off):
    pts = _points(seed=1)
    geo = _to_cam(mirror_through_image(pts, L2C, C2I, W, align))
    ref = _to_cam(mirror_through_image(pts, L2C, C2I, W, align,
                                       projection='reference'))
    shift = off * C2I[2, 3] / C2I[0, 0]
    np.testing.assert_allclose(geo[:, 0] - ref[:, 0], shift, atol=1e-9)
    np.testing.assert_allclose(geo[:, 1:], ref[:, 1:], atol=1e-9)
    # KITTI's P2: about 4.7 mm
    assert 0.004 < abs(W * 2.745884e-03 / 7.215377e+02) < 0.005


def test_flip_transform_projection_option():
    import torch
    from mmdet3d.registry import TRANSFORMS
    from mmdet3d.structures import LiDARPoints
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    pts = _points(50, seed=2)
    out = {}
    for proj in ('geometric', 'reference'):
        t = TRANSFORMS.build(dict(type='ImageSpaceFlip3D', flip_ratio=1.0,
                                  projection=proj))
        res = dict(img=np.zeros((375, W, 3), np.float32),
                   points=LiDARPoints(torch.tensor(pts, dtype=torch.float64),
                                      points_dim=3),
                   lidar2cam=L2C, cam2img=C2I, img_shape=(375, W))
        out[proj] = t(res)['points'].tensor.numpy()
    np.testing.assert_allclose(
        out['geometric'], mirror_through_image(pts, L2C, C2I, W), atol=1e-5)
    np.testing.assert_allclose(
        out['reference'],
        mirror_through_image(pts, L2C, C2I, W, projection='reference'),
        atol=1e-5)   # float32 points
    assert np.abs(out['geometric'] - out['reference']).max() > 1e-3
    with pytest.raises(ValueError, match='projection'):
        TRANSFORMS.build(dict(type='ImageSpaceFlip3D', projection='z'))


def test_crop_flip_rotate_pixel_map_against_numpy():
    """The pixel map of BEVDet's crop / flip / rotation, warped with
    cv2.warpAffine, is numpy's crop, mirror and 90-degree turn (PIL's
    ``rotate(90)`` is counter-clockwise on screen, ``np.rot90``), and by
    hand: the pixel right of a 4 x 4 window's centre goes to the top."""
    import cv2

    from cmkd_mmdet3d.datasets.transforms import crop_flip_rotate_pixel_map
    img = np.arange(6 * 8, dtype=np.float32).reshape(6, 8)

    def warp(m, size):
        return cv2.warpAffine(img, m[:2], (size[1], size[0]),
                              flags=cv2.INTER_LINEAR)

    m = crop_flip_rotate_pixel_map((2, 1), (4, 4), False, 0.0)
    np.testing.assert_array_equal(warp(m, (4, 4)), img[1:5, 2:6])
    m = crop_flip_rotate_pixel_map((2, 1), (4, 4), True, 0.0)
    np.testing.assert_array_equal(warp(m, (4, 4)), img[1:5, 2:6][:, ::-1])
    m = crop_flip_rotate_pixel_map((2, 1), (4, 4), False, 90.0)
    np.testing.assert_allclose(warp(m, (4, 4)), np.rot90(img[1:5, 2:6]),
                               atol=1e-4)
    m = crop_flip_rotate_pixel_map((0, 0), (4, 4), False, 90.0)
    np.testing.assert_allclose(m @ [3, 1.5, 1], [1.5, 0, 1], atol=1e-12)
    # the flip first, then the rotation (BEVDet's order)
    m = crop_flip_rotate_pixel_map((2, 1), (4, 4), True, 90.0)
    np.testing.assert_allclose(warp(m, (4, 4)),
                               np.rot90(img[1:5, 2:6][:, ::-1]), atol=1e-4)


def test_warp_intrinsics_generalises_scale_and_crop():
    """scale_intrinsics / crop_intrinsics by hand (cv2's centre alignment:
    c' = s c + (s - 1) / 2), a 4 x 4 P2 keeps its last row, and a map
    that is not affine is refused."""
    from cmkd_mmdet3d.datasets.transforms import (crop_intrinsics,
                                                  scale_intrinsics,
                                                  warp_intrinsics)
    k = np.array([[100.0, 0, 50, 1], [0, 100, 30, 2], [0, 0, 1, 3],
                  [0, 0, 0, 1]])
    s = scale_intrinsics(k, 0.5, 0.25)
    np.testing.assert_allclose(s[0], [50, 0, 25 - 0.25, 0.5 - 0.75])
    np.testing.assert_allclose(s[1], [0, 25, 7.5 - 0.375, 0.5 - 1.125])
    np.testing.assert_array_equal(s[2:], k[2:])
    c = crop_intrinsics(k, 4, 6)
    np.testing.assert_allclose(c[:2, 2], [46, 24])
    np.testing.assert_allclose(c[:2, 3], [1 - 12, 2 - 18])
    with pytest.raises(ValueError, match='last row'):
        warp_intrinsics(k, np.array([[1, 0, 0], [0, 1, 0], [0, 1e-3, 1]]))


def test_bevdet_view_aug_draws_as_cmkd_mv():
    """Test time: CMKD-MV's fixed scale W_out / W + resize_test, the bottom
    window centred left-right (1600 x 900 -> 256 x 704 at 0.48: 768 x 432,
    left 32, top 176); training: the scale within its range, the window's
    bottom on the image's, its left within the spare width, rotations in
    range and both flips over a few draws."""
    from cmkd_mmdet3d.datasets.transforms import sample_bevdet_view_aug
    aug = sample_bevdet_view_aug((900, 1600), (256, 704), test_mode=True,
                                 resize_test=0.04, resize=(-0.06, 0.06),
                                 rot=(-5.4, 5.4), flip=True)
    assert aug == dict(scale=pytest.approx(0.48), resized=(768, 432),
                       crop_offset=(32, 176), flip=False, rotate=0.0)
    np.random.seed(0)
    flips = set()
    for _ in range(20):
        aug = sample_bevdet_view_aug((900, 1600), (256, 704),
                                     resize=(-0.06, 0.06), rot=(-5.4, 5.4),
                                     flip=True)
        assert 0.38 <= aug['scale'] <= 0.50
        nw, nh = aug['resized']
        assert (nw, nh) == (int(1600 * aug['scale']), int(900 * aug['scale']))
        left, top = aug['crop_offset']
        assert top == nh - 256
        assert 0 <= left <= max(0, nw - 704)
        assert -5.4 <= aug['rotate'] <= 5.4
        flips.add(aug['flip'])
    assert flips == {True, False}
    aug = sample_bevdet_view_aug((900, 1600), (256, 704), flip=False)
    assert aug['flip'] is False and aug['rotate'] == 0.0
