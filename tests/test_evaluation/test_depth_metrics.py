"""cmkd_mmdet3d.evaluation.depth_metrics against sums computed by hand."""
import math

import pytest
import torch

from cmkd_mmdet3d.evaluation.depth_metrics import (depth_error_sums,
                                                   summarize_depth_errors)
from cmkd_mmdet3d.models.utils.depth_bins import DepthBins


def _logits(classes, num_classes):
    x = torch.zeros(1, num_classes, 1, len(classes))
    for j, c in enumerate(classes):
        x[0, c, 0, j] = 5.0
    return x


def test_depth_error_sums_by_hand():
    # UD bins over [0, 10] m, 5 bins of 2 m: centres 1 3 5 7 9, class 5 is
    # "beyond" (predicted depth = depth_max = 10)
    bins = DepthBins.build(dict(mode='UD', depth_min=0, depth_max=10,
                                num_bins=5))
    logits = _logits([1, 5, 2, 0], 6)
    # cell 3 has no LiDAR depth, cell 4 is beyond the range: neither counts
    depth = torch.tensor([[[3.5, 8.0, 0.0, 12.0]]])
    sums = depth_error_sums(logits, depth, bins)
    # cell 1: p 3 (bin 1), g 3.5 (bin 1); cell 2: p 10 (beyond), g 8 (bin 4)
    assert sums['cells'] == 2
    assert sums['abs_rel'] == pytest.approx(0.5 / 3.5 + 2 / 8)
    assert sums['sq_err'] == pytest.approx(0.25 + 4)
    assert sums['delta_1'] == 1           # 3.5 / 3 < 1.25, 10 / 8 is not
    assert sums['bin_exact'] == 1
    assert sums['bin_within_1'] == 2      # class 5 is one from class 4
    m = summarize_depth_errors(sums)
    assert m['abs_rel'] == pytest.approx((0.5 / 3.5 + 0.25) / 2)
    assert m['rmse'] == pytest.approx(math.sqrt(4.25 / 2))
    assert (m['delta_1'], m['bin_exact'], m['bin_within_1']) == (
        0.5, 0.5, 1.0)
    # sums add over batches: twice the batch, the same metrics
    twice = {k: 2 * v for k, v in sums.items()}
    assert summarize_depth_errors(twice)['rmse'] == pytest.approx(m['rmse'])
    # a mask keeps the valid cells inside it: cell 2 only (cell 3 has no
    # depth, so masking it in changes nothing)
    mask = torch.tensor([[[False, True, True, False]]])
    masked = depth_error_sums(logits, depth, bins, mask)
    assert masked['cells'] == 1
    assert masked['abs_rel'] == pytest.approx(2 / 8)
    assert masked['sq_err'] == pytest.approx(4)
    assert (masked['delta_1'], masked['bin_exact'],
            masked['bin_within_1']) == (0, 0, 1)
    with pytest.raises(ValueError, match='mask'):
        depth_error_sums(logits, depth, bins, mask[0])


def test_depth_error_sums_refuses_bad_shapes_and_no_cells():
    bins = DepthBins.build(dict(mode='UD', depth_min=0, depth_max=10,
                                num_bins=5))
    with pytest.raises(ValueError, match=r'\(B, 6, Hf, Wf\)'):
        depth_error_sums(torch.zeros(1, 4, 1, 2), torch.zeros(1, 1, 2), bins)
    with pytest.raises(ValueError, match='do not agree'):
        depth_error_sums(torch.zeros(1, 6, 1, 2), torch.zeros(1, 2, 1), bins)
    sums = depth_error_sums(torch.zeros(1, 6, 1, 2), torch.zeros(1, 1, 2),
                            bins)
    with pytest.raises(ValueError, match='nothing to evaluate'):
        summarize_depth_errors(sums)
