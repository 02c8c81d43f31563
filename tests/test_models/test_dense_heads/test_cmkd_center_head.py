"""CMKDCenterHead: regression targets."""
import math
import os

import numpy as np
import torch
from _helpers.models import _registry
from conftest import REPO_ROOT


def test_center_head_targets_without_velocity():
    """CMKDCenterHead's regression target of one box, by hand."""
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.config import Config
    from mmengine.structures import InstanceData
    MODELS = _registry()
    teacher = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'centerpoint',
        'centerpoint_res_secfpn_head-1task_1xb4-cyclic-12e_synkitti-3d-'
        '3class.py')).model
    head = MODELS.build(dict(teacher.pts_bbox_head,
                             train_cfg=teacher.train_cfg.pts,
                             test_cfg=teacher.test_cfg.pts))
    box = torch.tensor([[20.3, -4.1, -1.6, 3.9, 1.6, 1.5, 0.3]])
    inst = InstanceData(bboxes_3d=LiDARInstance3DBoxes(box),
                        labels_3d=torch.tensor([2]))
    heatmaps, anno, inds, masks = head.get_targets_single(inst)
    assert anno[0].shape[1] == 8 and masks[0].sum() == 1
    # cell: (x - x0) / (0.05 * 4) = 91.5 -> 91; (y - y0) / 0.2 = 129.5
    cx, cy = (20.3 - 2) / 0.2, (-4.1 + 30) / 0.2
    expected = [cx - int(cx), cy - int(cy), -1.6 + 0.75, math.log(3.9),
                math.log(1.6), math.log(1.5), math.sin(0.3), math.cos(0.3)]
    np.testing.assert_allclose(anno[0][0].tolist(), expected, atol=1e-4)
    assert inds[0][0].item() == int(cy) * 224 + int(cx)
    assert heatmaps[0][2, int(cy), int(cx)] == 1.0


def test_init_weights_reaches_the_task_heads():
    """After init_weights every task's heatmap bias is CenterPoint's prior
    -2.19 with its weights as built (OpenPCDet's SeparateHead), the other
    heads' biases are 0 (Kaiming weights); mmdet3d's CenterHead leaves the
    bias at PyTorch's default (open-mmlab/mmdetection3d#1554); a head
    initialised already (a loaded teacher) is left alone."""
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'centerpoint',
        'centerpoint_pillar08_second_secfpn_head-circlenms_1xb4-cyclic-4e_'
        'synnus-3d.py')).model
    kwargs = dict(train_cfg=cfg.train_cfg.pts, test_cfg=cfg.test_cfg.pts)
    torch.manual_seed(0)
    plain = MODELS.build(dict(cfg.pts_bbox_head, type='CenterHead', **kwargs))
    plain.init_weights()
    assert (plain.task_heads[0].heatmap[-1].bias - -2.19).abs().min() > 0.01
    head = MODELS.build(dict(cfg.pts_bbox_head, **kwargs))
    assert len(head.task_heads) == 6
    weight = head.task_heads[0].heatmap[-1].weight.detach().clone()
    head.task_heads[5]._is_init = True           # as if loaded
    head.task_heads[5].heatmap[-1].bias.data.fill_(0.5)
    head.init_weights()
    for task in head.task_heads[:5]:
        bias = task.heatmap[-1].bias
        torch.testing.assert_close(bias, torch.full_like(bias, -2.19))
        for name in ('reg', 'height', 'dim', 'rot', 'vel'):
            assert (getattr(task, name)[-1].bias == 0).all(), name
    assert torch.equal(head.task_heads[0].heatmap[-1].weight, weight)
    assert (head.task_heads[5].heatmap[-1].bias == 0.5).all()


def test_response_losses_with_velocity_per_head_or_together():
    """loss_by_teacher on nuScenes heads (with ``vel``): one loss per task
    over the concatenated box maps (the KITTI reference), or, with
    resp_bbox_per_head (CMKD-MV), the sum of each head's own loss; both
    equal the loss functions applied by hand, and vanish when the student's
    outputs are the teacher's."""
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'centerpoint',
        'centerpoint_pillar08_second_secfpn_head-circlenms_1xb4-cyclic-4e_'
        'synnus-3d.py')).model
    kwargs = dict(train_cfg=cfg.train_cfg.pts, test_cfg=cfg.test_cfg.pts)
    box = dict(type='SoftCenterRegressionLoss', pos_thr=None, loss_weight=50)
    per_head = MODELS.build(dict(cfg.pts_bbox_head, loss_resp_bbox=box,
                                 resp_bbox_per_head=True, **kwargs))
    together = MODELS.build(dict(cfg.pts_bbox_head, loss_resp_bbox=box,
                                 **kwargs))
    torch.manual_seed(0)
    feats = [torch.randn(2, 192, 8, 8)]
    s_out = per_head(feats)
    t_out = together(feats)
    assert 'vel' in s_out[0][0]
    fn = MODELS.build(box)
    heads = ('reg', 'height', 'dim', 'rot', 'vel')
    a = per_head.loss_by_teacher(s_out, t_out)
    b = together.loss_by_teacher(s_out, t_out)
    assert len(a) == len(b) == 12
    for task in range(6):
        s, t = s_out[task][0], t_out[task][0]
        expected = sum(fn(s[k], t[k], t['heatmap']) for k in heads)
        torch.testing.assert_close(a[f'task{task}.loss_resp_bbox'], expected)
        cat = fn(torch.cat([s[k] for k in heads], 1),
                 torch.cat([t[k] for k in heads], 1), t['heatmap'])
        torch.testing.assert_close(b[f'task{task}.loss_resp_bbox'], cat)
    assert not torch.isclose(a['task0.loss_resp_bbox'],
                             b['task0.loss_resp_bbox'])
    same = per_head.loss_by_teacher(t_out, t_out)
    assert all(v.item() == 0 for k, v in same.items() if 'bbox' in k)
