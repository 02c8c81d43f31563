"""IoUAwareAnchor3DHead: the reference's IoU-aware QFL target
(``Cc-Hy/CMKD:pcdet/models/dense_heads/anchor_head_single_qfl.py``) checked
against a plain per-anchor, per-box loop, normalisation included."""
import pytest
import torch
import torch.nn.functional as F

from cmkd_mmdet3d.models.utils import aligned_iou_3d
from cmkd_mmdet3d.testing import kitti_lidar_batch
from _helpers.models import SYN, build


def _loop_targets(pred, gt, labels, num_classes):
    """Per anchor: IoU with every valid box, keep the best, write it in that
    box's class channel; the normaliser counts anchors with IoU > 0."""
    target = torch.zeros(len(pred), num_classes)
    count = 0
    for a in range(len(pred)):
        best, best_label = 0.0, None
        for g in range(len(gt)):
            if not 0 <= int(labels[g]) < num_classes:
                continue
            iou = float(aligned_iou_3d(pred[a:a + 1], gt[g:g + 1])[0])
            if iou > best:
                best, best_label = iou, int(labels[g])
        if best > 0:
            target[a, best_label] = best
            count += 1
    return target, count


def _toy_scene():
    gt = torch.tensor([[10.0, 2.0, -1.7, 3.9, 1.6, 1.5, 0.3],
                       [11.5, 3.0, -1.6, 4.2, 1.7, 1.6, 0.1],   # overlaps #0
                       [20.0, -5.0, -0.6, 0.8, 0.6, 1.7, 1.2],
                       [30.0, 8.0, -0.6, 1.8, 0.6, 1.7, -0.4],
                       [14.0, -9.0, -1.6, 4.0, 1.6, 1.5, 0.0]])
    labels = torch.tensor([2, 2, 0, 1, -1])    # the last one is ignored
    g = torch.Generator().manual_seed(0)
    near = gt[torch.arange(40) % 5].clone()
    near[:, :3] += torch.randn(40, 3, generator=g) * 0.6
    near[:, 3:6] *= torch.exp(torch.randn(40, 3, generator=g) * 0.2)
    near[:, 6] += torch.randn(40, generator=g)
    far = torch.tensor([[50.0, 30.0, -1.0, 3.9, 1.6, 1.5, 0.0],
                        [10.0, 2.0, 5.0, 3.9, 1.6, 1.5, 0.3]])  # above #0
    return torch.cat([near, far]), gt, labels


def test_target_matches_loop():
    from cmkd_mmdet3d.models.dense_heads.iou_aware_anchor3d_head import \
        iou_quality_targets
    pred, gt, labels = _toy_scene()
    ours, n = iou_quality_targets(pred, gt, labels, 3)
    ref, n_ref = _loop_targets(pred, gt, labels, 3)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=0)
    assert n == n_ref
    # the scene exercises every case: each class, anchors between the two
    # overlapping cars, anchors near the ignored box only, misses
    assert (ref > 0).any(0).tolist() == [True, True, True]
    assert 0 < n < len(pred)
    assert (ref > 0).sum(1).max() == 1          # one channel per anchor
    assert ref[-2:].abs().sum() == 0            # far / above: no overlap
    # no (valid) ground truth: zero targets, zero normaliser
    t, n0 = iou_quality_targets(pred, gt[4:], labels[4:], 3)
    assert n0 == 0 and t.abs().sum() == 0
    t, n0 = iou_quality_targets(pred, gt[:0], labels[:0], 3)
    assert n0 == 0 and t.shape == (len(pred), 3)


def test_pairwise_iou_matches_dense():
    from cmkd_mmdet3d.models.dense_heads.iou_aware_anchor3d_head import \
        pairwise_iou_3d
    pred, gt, _ = _toy_scene()
    ours = pairwise_iou_3d(pred, gt)
    dense = aligned_iou_3d(pred.repeat_interleave(len(gt), 0),
                           gt.repeat(len(pred), 1)).view(len(pred), len(gt))
    torch.testing.assert_close(ours, dense, atol=1e-6, rtol=0)
    bad = pred[:3].clone()
    bad[0, 3] = float('inf')
    assert torch.isfinite(pairwise_iou_3d(bad, gt)).all()


def _head(qfl_target):
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    rng = [0, -10, 0, 40, 10, 0]
    z = {0: -0.6, 1: -0.6, 2: -1.78}
    assign = [
        dict(type='Max3DIoUAssigner',
             iou_calculator=dict(type='BboxOverlapsNearest3D'),
             pos_iou_thr=p, neg_iou_thr=n, min_pos_iou=n, ignore_iof_thr=-1)
        for p, n in [(0.5, 0.35), (0.5, 0.35), (0.6, 0.45)]]
    cfg = dict(
        type='IoUAwareAnchor3DHead', qfl_target=qfl_target, num_classes=3,
        in_channels=8, feat_channels=8, use_direction_classifier=True,
        dir_offset=0.78539, dir_limit_offset=0,
        anchor_generator=dict(
            type='Anchor3DRangeGenerator',
            ranges=[rng[:2] + [z[c]] + rng[3:5] + [z[c]] for c in range(3)],
            sizes=[[0.8, 0.6, 1.73], [1.76, 0.6, 1.73], [3.9, 1.6, 1.56]],
            rotations=[0, 1.57], reshape_out=False),
        bbox_coder=dict(type='DeltaXYZWLHRBBoxCoder'),
        loss_cls=dict(type='mmdet.QualityFocalLoss', use_sigmoid=True,
                      beta=2.0, loss_weight=8.0),
        loss_bbox=dict(type='mmdet.SmoothL1Loss', beta=1.0 / 9.0,
                       loss_weight=2.0),
        loss_dir=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False,
                      loss_weight=0.2),
        train_cfg=dict(assigner=assign, allowed_border=0, pos_weight=-1,
                       debug=False),
        test_cfg=dict(use_rotate_nms=True, nms_across_levels=False,
                      nms_thr=0.01, score_thr=0.1, min_bbox_size=0,
                      nms_pre=100, max_num=50))
    torch.manual_seed(0)
    from mmengine.config import ConfigDict
    return MODELS.build(ConfigDict(cfg))


def _batch():
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.structures import InstanceData
    torch.manual_seed(1)
    feats = [torch.randn(2, 8, 9, 21)]       # anchors every 2 m x 2.5 m
    boxes = [torch.tensor([[10.0, 2.5, -1.78, 3.9, 1.6, 1.56, 0.05],
                           [20.0, -5.0, -0.6, 0.8, 0.6, 1.73, 1.5],
                           [30.0, 5.0, -0.6, 1.76, 0.6, 1.73, 0.0]]),
             torch.tensor([[16.0, 0.0, -1.78, 4.1, 1.7, 1.5, 1.6]])]
    labels = [torch.tensor([2, 0, 1]), torch.tensor([2])]
    gts = [InstanceData(bboxes_3d=LiDARInstance3DBoxes(b), labels_3d=lb)
           for b, lb in zip(boxes, labels)]
    metas = [dict(box_type_3d=LiDARInstance3DBoxes)] * 2
    return feats, boxes, labels, gts, metas


def test_head_loss_matches_plain_formula():
    """loss_cls = w * sum_b sum_{a,c} BCE(z, t) |sigmoid(z) - t|^2 /
    max(#{a: IoU > 0 in b}, 1), t from the loop over anchors and boxes."""
    head = _head('best_gt')
    feats, boxes, labels, gts, metas = _batch()
    cls, box, dirs = head(feats)
    # make some predictions overlap the boxes well, others poorly
    box = [box[0] * 3]
    losses = head.loss_by_feat(cls, box, dirs, gts, metas)
    anchors = head.get_anchors([cls[0].shape[-2:]], metas, device='cpu')
    b = cls[0].shape[0]
    z = cls[0].permute(0, 2, 3, 1).reshape(b, -1, 3)
    d = box[0].permute(0, 2, 3, 1).reshape(b, -1, 7)
    expected, counts = 0.0, []
    for i in range(b):
        a = anchors[i][0].reshape(-1, 7)
        pred = head.bbox_coder.decode(a, d[i].detach())
        t, n = _loop_targets(pred, boxes[i], labels[i], 3)
        counts.append(n)
        p = z[i].sigmoid()
        qfl = F.binary_cross_entropy_with_logits(
            z[i], t, reduction='none') * (p - t).abs().pow(2)
        expected = expected + qfl.sum() / max(n, 1)
    assert all(n > 0 for n in counts) and counts[0] != counts[1]
    assert float(losses['loss_cls'][0]) == pytest.approx(
        8.0 * float(expected), rel=1e-5)
    for k in ('loss_bbox', 'loss_dir'):
        assert torch.isfinite(losses[k][0]) and losses[k][0] > 0


def test_assigned_variant_kept():
    """qfl_target='assigned' (targets at assigned positives only) still
    trains, and differs from the reference's target."""
    feats, _, _, gts, metas = _batch()
    out = {}
    for mode in ('best_gt', 'assigned'):
        head = _head(mode)
        cls, box, dirs = head(feats)
        out[mode] = head.loss_by_feat(cls, [box[0] * 3], dirs, gts, metas)
    assert torch.isfinite(out['assigned']['loss_cls'][0])
    assert float(out['assigned']['loss_cls'][0]) != pytest.approx(
        float(out['best_gt']['loss_cls'][0]), rel=1e-3)
    # box and direction losses do not depend on the classification target
    for k in ('loss_bbox', 'loss_dir'):
        assert float(out['assigned'][k][0]) == pytest.approx(
            float(out['best_gt'][k][0]), rel=1e-6)
    with pytest.raises(ValueError):
        _head('all')


def test_iou_aware_head_loss(synthetic_world):
    """The SECOND teacher's IoU-aware head computes finite losses whose
    classification part only rewards IoU-weighted positives."""
    pytest.importorskip('spconv.pytorch')
    cfg, model = build(SYN['second'])
    head = model.bbox_head
    feats = torch.randn(2, 512, 188, 140) * 0.1
    cls, box, dirs = head([feats])
    batch = kitti_lidar_batch(synthetic_world, cfg.point_cloud_range, [0, 1])
    gts = [s.gt_instances_3d for s in batch['data_samples']]
    metas = [s.metainfo for s in batch['data_samples']]
    losses = head.loss_by_feat(cls, box, dirs, gts, metas)
    for k in ('loss_cls', 'loss_bbox', 'loss_dir'):
        v = sum(losses[k])
        assert torch.isfinite(v) and v > 0, (k, v)
