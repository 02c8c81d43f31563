"""cmkd_mmdet3d.visualization.bev_features: the BEV feature numerics."""
import math

import numpy as np
import pytest
import torch


# (C=2, Y=1, X=3): cells (1, 0) / (0, 2), (3, 4) / (3, 4), (0, 0) / (1, 1)
A = np.array([[[1.0, 3.0, 0.0]], [[0.0, 4.0, 0.0]]])
B = np.array([[[0.0, 3.0, 1.0]], [[2.0, 4.0, 1.0]]])


def test_channel_norm_by_hand():
    from cmkd_mmdet3d.visualization import channel_norm
    np.testing.assert_allclose(channel_norm(A), [[1.0, 5.0, 0.0]])
    # batched and from a tensor
    out = channel_norm(torch.from_numpy(np.stack([A, B])))
    assert out.shape == (2, 1, 3)
    np.testing.assert_allclose(out[1], [[2.0, 5.0, math.sqrt(2)]])


def test_cosine_map_by_hand():
    from cmkd_mmdet3d.visualization import cosine_map, mean_cosine
    cos = cosine_map(A, B)
    assert cos.shape == (1, 3)
    # orthogonal, identical, undefined (a zero vector)
    np.testing.assert_allclose(cos[0, :2], [0.0, 1.0], atol=1e-12)
    assert np.isnan(cos[0, 2])
    np.testing.assert_allclose(cosine_map(A, -A)[0, :2], [-1.0, -1.0])
    mean, frac = mean_cosine(cos)
    assert mean == pytest.approx(0.5) and frac == pytest.approx(2 / 3)
    assert math.isnan(mean_cosine(cosine_map(A * 0, B))[0])
    with pytest.raises(ValueError, match='cell by cell'):
        cosine_map(A, B[:, :, :2])


def test_mse_per_cell_by_hand_and_as_the_bev_loss():
    from cmkd_mmdet3d.models.losses import BEVFeatureDistillLoss
    from cmkd_mmdet3d.visualization import mean_mse, mse_per_cell
    # ((1-0)^2 + (0-2)^2) / 2, 0, (1 + 1) / 2
    np.testing.assert_allclose(mse_per_cell(A, B), [[2.5, 0.0, 1.0]])
    assert mean_mse(A, B) == pytest.approx(3.5 / 3)
    # the teacher against itself
    torch.manual_seed(0)
    t = torch.randn(64, 7, 9)
    assert mean_mse(t, t) == 0.0
    np.testing.assert_array_equal(mse_per_cell(t, t), np.zeros((7, 9)))
    # the mean is CMKD's BEV loss of the frame before its weight
    s = torch.randn(64, 7, 9)
    loss = BEVFeatureDistillLoss(loss_weight=1.0)(s[None], t[None])
    assert mean_mse(s, t) == pytest.approx(float(loss), rel=1e-5)


def test_bev_to_display_orientation():
    from cmkd_mmdet3d.visualization import bev_to_display, display_extent
    m = np.arange(6.0).reshape(2, 3)          # (Y=2, X=3)
    d = bev_to_display(m)
    assert d.shape == (3, 2)
    # top left: largest x (forward, up) and largest y (left, on the left)
    assert d[0, 0] == m[1, 2] and d[-1, -1] == m[0, 0]
    assert d[0, -1] == m[0, 2]                # far x, rightmost (-y)
    assert display_extent((2, -30, 46, 30)) == (30, -30, 2, 46)
