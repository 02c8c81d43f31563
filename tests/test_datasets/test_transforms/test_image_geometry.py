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
