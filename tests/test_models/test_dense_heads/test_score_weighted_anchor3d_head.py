"""ScoreWeightedAnchor3DHead: pseudo-label scores weight the losses of the
anchors assigned to their boxes (the paper's pseudo-label weighting)."""
import math
import os

import pytest
import torch
from conftest import REPO_ROOT


STUDENT = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


def test_weight_by_hand():
    from cmkd_mmdet3d.models.dense_heads import pseudo_label_weight
    w = pseudo_label_weight(torch.tensor([-1.0, 0.0, 0.25, 0.5, 1.0]))
    assert w.tolist() == [1.0, 0.0, 0.5, 1.0, 2.0]


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


def _anchor_weights(head, boxes, scores):
    """Per positive anchor of each sample: its label weight, its box
    weight and the score of the box its target decodes to exactly (all 7
    values), from mmdet3d's anchor targets."""
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.structures import InstanceData
    gts = [InstanceData(bboxes_3d=LiDARInstance3DBoxes(b.clone()),
                        labels_3d=torch.full((len(b), ), 2),
                        scores_3d=torch.tensor(s))
           for b, s in zip(boxes, scores)]
    metas = [dict(box_type_3d=LiDARInstance3DBoxes)] * len(boxes)
    anchors = head.get_anchors([(188, 140)], metas, device='cpu')
    flat = [a[0].reshape(-1, 7) for a in anchors]
    (labels, label_w, bbox_t, bbox_w, _, dir_w, _, _) = \
        head.anchor_target_3d(anchors, gts, metas,
                              num_classes=head.num_classes,
                              sampling=head.sampling)
    out = []
    for i, (b, s) in enumerate(zip(boxes, scores)):
        pos = (labels[0][i] < head.num_classes).nonzero(as_tuple=True)[0]
        dec = head.bbox_coder.decode(flat[i][pos], bbox_t[0][i][pos])
        d = dec[:, None, :] - b[None, :, :]
        d[..., 6] = torch.remainder(d[..., 6] + math.pi, 2 * math.pi) - \
            math.pi
        err, own = d.abs().amax(-1).min(1)
        assert (err < 1e-3).all()
        out.append((label_w[0][i][pos], bbox_w[0][i][pos],
                    torch.tensor(s)[own], own, dir_w[0][i][pos]))
    return out


def test_each_anchor_gets_its_own_box_score(head_and_inputs):
    """Boxes that nearest-box matching on (x, y, l, w, h) cannot tell apart
    (one spot, two headings) or nearly (two cars side by side), in both
    orders: every positive anchor is weighted by the score of the box it
    was assigned, read by index."""
    head = head_and_inputs[0]
    car = [-1.6, 3.9, 1.6, 1.56]
    same_spot = torch.tensor([[15.0, 4.0] + car + [0.0],
                              [15.0, 4.0] + car + [math.pi / 2]])
    side_by_side = torch.tensor([[22.0, -4.0] + car + [0.0],
                                 [22.0, -2.2] + car + [0.0]])
    boxes = [same_spot, side_by_side]
    scores = [[0.9, 0.1], [0.3, 0.7]]
    for order in ([0, 1], [1, 0]):
        res = _anchor_weights(head, [b[order] for b in boxes],
                              [[s[j] for j in order] for s in scores])
        for label_w, bbox_w, own_score, own, dir_w in res:
            # both boxes have positives, so a wrong match would show
            assert set(own.tolist()) == {0, 1}
            w = 2 * own_score
            assert torch.allclose(label_w, w)
            assert torch.allclose(bbox_w, w[:, None].expand_as(bbox_w))
            assert (dir_w == 1).all()
    # the losses do not depend on the order of the boxes
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.structures import InstanceData
    _, outs, _, metas = head_and_inputs
    losses = []
    for order in ([0, 1], [1, 0]):
        gts = [InstanceData(bboxes_3d=LiDARInstance3DBoxes(b[order]),
                            labels_3d=torch.full((2, ), 2),
                            scores_3d=torch.tensor(s)[order])
               for b, s in zip(boxes, scores)]
        losses.append({k: float(sum(v)) for k, v in
                       head.loss_by_feat(*outs, gts, metas).items()})
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
