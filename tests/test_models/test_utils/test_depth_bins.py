"""Depth bins (models.utils.depth_bins) against plain reference
formulations."""
import pytest
import torch

from cmkd_mmdet3d.models.utils import bin_depths, bin_edges
from _helpers.models import STUDENT_CFG, _registry


def test_one_depth_bins_object_shared_and_checked_at_build():
    """The depth-bin settings are built once (``CMKDMono3D.depth_bins``)
    and shared by the depth network (number of logits), the lift neck and
    the depth targets; settings that disagree are refused at build time."""
    from mmengine.config import Config

    from cmkd_mmdet3d.models.utils import DepthBins, bin_depths
    MODELS = _registry()
    cfg = Config.fromfile(STUDENT_CFG).model
    model = MODELS.build(cfg)
    bins = model.depth_bins
    assert isinstance(bins, DepthBins)
    assert model.img_backbone.depth_bins is bins
    assert model.lift_neck.depth_bins is bins
    neck = cfg.lift_neck
    assert bins == DepthBins(neck.mode, neck.depth_min, neck.depth_max,
                             neck.num_bins)
    assert model.img_backbone.depth_head[-1].out_channels == \
        bins.num_classes == neck.num_bins + 1
    d = torch.tensor([1.0, 2.0, 10.0, 46.7, 50.0, 0.0])
    assert torch.equal(bins.targets(d), bin_depths(
        d, neck.mode, neck.depth_min, neck.depth_max, neck.num_bins,
        target=True))
    assert len(bins.centres()) == bins.num_bins
    # the same settings given once at the student level
    alone = MODELS.build(dict(
        cfg, depth_bins=bins.as_dict(),
        lift_neck={k: v for k, v in neck.items()
                   if k not in bins.as_dict()},
        img_backbone={k: v for k, v in cfg.img_backbone.items()
                      if k != 'num_bins'}))
    assert alone.depth_bins == bins
    with pytest.raises(ValueError, match=r'img_backbone predicts 12 bins, '
                       r'lift_neck expects 40'):
        MODELS.build(
            dict(cfg, img_backbone=dict(cfg.img_backbone, num_bins=12)))
    with pytest.raises(ValueError, match=r'lift_neck.depth_max \(46.8\) '
                       r'differs from depth_bins.depth_max \(40.0\)'):
        MODELS.build(dict(cfg, depth_bins=dict(bins.as_dict(),
                                               depth_max=40.0)))
    with pytest.raises(ValueError, match=r'DepthLiftNeck: depth_min \(50.0\)'
                       r' must be below depth_max'):
        MODELS.build(dict(cfg, lift_neck=dict(neck, depth_min=50.0)))
    with pytest.raises(ValueError, match=r"the depth bins need \['depth_max'"):
        DepthBins.build(dict(depth_min=2.0, num_bins=4))


def test_one_hot_depth_logits_softmax_is_exactly_one_hot():
    from cmkd_mmdet3d.models.utils import one_hot_depth_logits
    classes = torch.tensor([[[0, 3], [2, 4]]])              # D = 4 bins
    logits = one_hot_depth_logits(classes, 5)
    assert logits.shape == (1, 5, 2, 2)
    probs = logits.softmax(1)
    for y in range(2):
        for x in range(2):
            want = [0.0] * 5
            want[int(classes[0, y, x])] = 1.0
            assert probs[0, :, y, x].tolist() == want
    with pytest.raises(ValueError, match=r'in \[0, 4\], got \[0, 5\]'):
        one_hot_depth_logits(torch.tensor([[[0, 5]]]), 5)


def test_lid_bins_by_hand():
    # CaDDN LID: delta = 89.6 / 14520, bin i starts at 2 + delta i (i + 1) / 2
    delta = 2 * (46.8 - 2.0) / (120 * 121)
    edges = bin_edges('LID', 2.0, 46.8, 120)
    assert edges[0] == pytest.approx(2.0)
    assert edges[120] == pytest.approx(46.8, abs=1e-4)
    assert float(edges[1] - edges[0]) == pytest.approx(delta, rel=1e-5)
    assert float(edges[120] - edges[119]) == pytest.approx(120 * delta,
                                                           rel=1e-4)


@pytest.mark.parametrize('mode', ['UD', 'SID', 'LID'])
def test_bins_round_trip(mode):
    edges = bin_edges(mode, 2.0, 46.8, 80)
    # a depth inside bin i maps to class i and to a continuous index in
    # [i, i + 1)
    mid = (edges[:-1] + edges[1:]) / 2
    cls = bin_depths(mid, mode, 2.0, 46.8, 80, target=True)
    assert torch.equal(cls, torch.arange(80))
    cont = bin_depths(edges[:-1].double().float() + 1e-4, mode, 2.0, 46.8,
                      80)
    assert torch.allclose(cont, torch.arange(80).float(), atol=0.05)


def test_bin_targets_out_of_range_missing_and_nan():
    d = torch.tensor([0.0, 1.0, 50.0, float('nan'), float('inf'), 2.0])
    cls = bin_depths(d, 'LID', 2.0, 46.8, 120, target=True)
    assert cls.tolist() == [120, 120, 120, 120, 120, 0]
    assert cls.dtype == torch.int64
    with pytest.raises(ValueError, match='mode'):
        bin_depths(d, 'XID')
