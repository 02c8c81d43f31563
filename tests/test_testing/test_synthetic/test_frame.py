"""cmkd_mmdet3d.testing.synthetic.frame: one frame's image, sweep and KITTI
labels."""
import numpy as np

from cmkd_mmdet3d.testing.synthetic import calibration_for_date, make_frame
from cmkd_mmdet3d.testing.synthetic.geometry import box_corners_cam


def _parse(line):
    f = line.split()
    return dict(cls=f[0], trunc=float(f[1]), occ=int(f[2]),
                bbox=np.array(f[4:8], float), hwl=np.array(f[8:11], float),
                loc=np.array(f[11:14], float), ry=float(f[14]))


def test_deterministic_for_a_seed():
    calib = calibration_for_date('2011_09_26')
    a, b = make_frame(5, calib), make_frame(5, calib)
    c = make_frame(6, calib)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.points, b.points)
    assert a.labels == b.labels
    assert not np.array_equal(a.points[:100], c.points[:100])


def test_2d_labels_are_projected_3d_boxes(frame):
    h_img, w_img = frame.image.shape[:2]
    n = 0
    for line in frame.labels:
        lab = _parse(line)
        if lab['cls'] == 'DontCare' or lab['trunc'] > 0:
            continue
        h, w, length = lab['hwl']
        corners = box_corners_cam(lab['loc'], np.array([length, h, w]),
                                  lab['ry'])
        uvw = np.c_[corners, np.ones(8)] @ frame.calib.P2.T
        uv = uvw[:, :2] / uvw[:, 2:]
        box = [uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(),
               uv[:, 1].max()]
        np.testing.assert_allclose(lab['bbox'], box, atol=0.006)
        n += 1
    assert n >= 1
    assert frame.image.shape == (375, 1242, 3)
