"""ScoreWeightedAnchor3DHead: pseudo-label scores weight the losses of the
anchors assigned to their boxes (the paper's pseudo-label weighting)."""
import os

import pytest
import torch

from conftest import REPO_ROOT

STUDENT = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


def test_weight_and_matching_by_hand():
    from cmkd_mmdet3d.models.dense_heads import (match_box_scores,
                                                 pseudo_label_weight)
    w = pseudo_label_weight(torch.tensor([-1.0, 0.0, 0.25, 0.5, 1.0]))
    assert w.tolist() == [1.0, 0.0, 0.5, 1.0, 2.0]
    gt = torch.tensor([[10.0, 2.0, -1.0, 4.0, 1.6, 1.5, 0.0],
                       [20.0, -3.0, -1.0, 0.8, 0.6, 1.7, 1.0]])
    scores = torch.tensor([0.9, 0.4])
    # targets equal the boxes up to re-expressed z / yaw and float noise
    targets = torch.tensor([[20.0, -3.0, -0.2, 0.8, 0.6, 1.7, 4.1],
                            [10.0 + 1e-5, 2.0, -1.0, 4.0, 1.6, 1.5, 3.1],
                            [20.0, -3.0, -1.0, 0.8, 0.6, 1.7, 1.0]])
    assert match_box_scores(targets, gt, scores).tolist() == pytest.approx(
        [0.4, 0.9, 0.4])
    assert match_box_scores(targets, gt[:0], scores[:0]).tolist() == \
        [-1.0] * 3


@pytest.fixture(scope='module')
def head_and_inputs():
    from mmdet3d.registry import MODELS
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    model = Config.fromfile(STUDENT).model
    cfg = model.bbox_head
    cfg.update(train_cfg=model.train_cfg, test_cfg=model.test_cfg)
    cfg.type = 'ScoreWeightedAnchor3DHead'
    cfg.loss_cls = dict(type='mmdet.QualityFocalLoss', use_sigmoid=True,
                        beta=2.0, loss_weight=1.0)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    # the synthetic BEV grid (Y, X) = (188, 140), stride 1 at the head
    x = [torch.randn(2, cfg.in_channels, 188, 140)]
    outs = head(x)
    boxes = [
        torch.tensor([[12.0, 3.0, -1.6, 3.9, 1.6, 1.56, 0.3],
                      [25.0, -6.0, -1.6, 3.9, 1.6, 1.56, -1.2]]),
        torch.tensor([[18.0, 8.0, -1.6, 3.9, 1.6, 1.56, 1.5]])
    ]
    metas = [dict(box_type_3d=LiDARInstance3DBoxes)] * 2
    return head, outs, boxes, metas


def _loss(head_and_inputs, scores):
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.structures import InstanceData
    head, outs, boxes, metas = head_and_inputs
    gts = []
    for b, s in zip(boxes, scores):
        inst = InstanceData(bboxes_3d=LiDARInstance3DBoxes(b),
                            labels_3d=torch.full((len(b), ), 2))
        if s is not None:
            inst.scores_3d = torch.tensor(s)
        gts.append(inst)
    losses = head.loss_by_feat(*outs, gts, metas)
    return {k: sum(v).item() if isinstance(v, list) else v.item()
            for k, v in losses.items()}


def test_scores_weight_the_assigned_anchors(head_and_inputs):
    plain = _loss(head_and_inputs, [None, None])
    assert plain['loss_bbox'] > 0
    # score 0.5 weighs as ground truth (weight 1): identical losses
    half = _loss(head_and_inputs, [[0.5, 0.5], [0.5]])
    for k in plain:
        assert half[k] == pytest.approx(plain[k], rel=1e-6)
    # ground truth mixed with pseudo-labels: -1 is ground truth
    gt = _loss(head_and_inputs, [[-1.0, -1.0], None])
    assert gt == pytest.approx(plain, rel=1e-6)
    # score 0.25 everywhere: box loss x 0.5, direction unchanged, the
    # classification loss of the positive anchors down-weighted
    quarter = _loss(head_and_inputs, [[0.25, 0.25], [0.25]])
    assert quarter['loss_bbox'] == pytest.approx(0.5 * plain['loss_bbox'],
                                                 rel=1e-5)
    assert quarter['loss_dir'] == pytest.approx(plain['loss_dir'], rel=1e-6)
    assert quarter['loss_cls'] < plain['loss_cls']
    # one box at score 0: its anchors stop counting for the box loss
    zero_one = _loss(head_and_inputs, [[0.5, 0.5], [0.0]])
    only_first = _loss(head_and_inputs, [[0.5, 0.5], [0.5]])
    assert zero_one['loss_bbox'] < only_first['loss_bbox']
