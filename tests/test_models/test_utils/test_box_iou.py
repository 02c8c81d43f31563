"""models.utils.box_iou: aligned_iou_3d against a polygon reference."""
import numpy as np
import torch

from cmkd_mmdet3d.models.utils import aligned_iou_3d
from _helpers.compat import _area, _clip


def _corners_ccw(x, y, dx, dy, yaw):
    local = np.array([[dx, dy], [-dx, dy], [-dx, -dy], [dx, -dy]]) / 2
    rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    return local @ rot.T + [x, y]


def test_aligned_iou_3d_matches_polygon_reference():
    rng = np.random.default_rng(0)
    n = 60
    b1 = np.c_[rng.uniform(-2, 2, (n, 2)), rng.uniform(-1, 0, n),
               rng.uniform(0.5, 4, (n, 3)), rng.uniform(-np.pi, np.pi, n)]
    b2 = b1 + np.c_[rng.normal(0, 0.7, (n, 3)), rng.normal(0, 0.3, (n, 3)),
                    rng.normal(0, 0.5, n)]
    b2[:, 3:6] = np.abs(b2[:, 3:6]) + 0.2
    b2[:5] = b1[:5]
    ref = []
    for a, b in zip(b1, b2):
        inter = _area(_clip(_corners_ccw(*a[[0, 1, 3, 4, 6]]),
                            _corners_ccw(*b[[0, 1, 3, 4, 6]])))
        h = max(0, min(a[2] + a[5], b[2] + b[5]) - max(a[2], b[2]))
        v = inter * h
        ref.append(v / (np.prod(a[3:6]) + np.prod(b[3:6]) - v))
    ours = aligned_iou_3d(torch.tensor(b1), torch.tensor(b2)).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    np.testing.assert_allclose(ours[:5], 1, atol=1e-5)
    assert 0 < np.mean(ours[5:]) < 1
