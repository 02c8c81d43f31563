"""Anchor head trained on pseudo-labels with their scores (spec 5.3, the
reference's V1 ``AnchorHeadSingleCMKD`` + ``AxisAlignedTargetAssignerScore``).
"""
from typing import List, Optional

import torch
from torch import Tensor

from mmdet3d.registry import MODELS
from .cmkd_anchor3d_head import CMKDAnchor3DHead
from .iou_aware_anchor3d_head import IoUAwareAnchor3DHead


def pseudo_label_weight(scores: Tensor) -> Tensor:
    """Loss weight of an anchor from the score of its box: ``2 * score``
    (a score-0.5 pseudo box weighs as much as ground truth); ground truth
    carries score -1, read as 0.5 (weight 1), as the reference's dataset
    maps it."""
    return torch.where(scores < 0, torch.ones_like(scores), 2 * scores)


def match_box_scores(target_boxes: Tensor, gt_boxes: Tensor,
                     gt_scores: Tensor) -> Tensor:
    """The score of the ground-truth box each target box was encoded from.

    ``target_boxes`` (P, 7) are decoded regression targets of positive
    anchors, so each equals one of ``gt_boxes`` (M, 7) in x, y, l, w, h
    (z and yaw may be re-expressed); returns (P,) scores of the nearest.
    """
    if len(gt_boxes) == 0:
        return target_boxes.new_full((len(target_boxes), ), -1.0)
    cols = [0, 1, 3, 4, 5]
    d = (target_boxes[:, None, cols] - gt_boxes[None, :, cols]).abs().sum(-1)
    return gt_scores[d.argmin(1)]


@MODELS.register_module()
class ScoreWeightedAnchor3DHead(CMKDAnchor3DHead, IoUAwareAnchor3DHead):
    """``CMKDAnchor3DHead`` trained on boxes with scores (pseudo-labels):

    - classification target: ``IoUAwareAnchor3DHead``'s, by default
      (``qfl_target='best_gt'``) the 3D IoU of every anchor's decoded
      prediction with the box it overlaps most, in that box's class channel,
      as the reference's ``AnchorHeadSingleCMKD``
      (``Cc-Hy/CMKD:pcdet/models/dense_heads/anchor_head_single_cmkd.py``);
      ``qfl_target='assigned'`` keeps the IoU with the assigned box at the
      positives only; use ``loss_cls=dict(type='mmdet.QualityFocalLoss',
      ...)``;
    - each positive anchor's classification and box losses are multiplied
      by :func:`pseudo_label_weight` of its box's score
      (``gt_instances_3d.scores_3d``; frames without scores are ground truth,
      weight 1). Negative anchors and the direction loss keep weight 1.

    Inference, ``loss_by_teacher`` and the weights are CMKDAnchor3DHead's,
    so it loads teacher heads and student checkpoints alike.
    """

    def loss_by_feat(self, cls_scores: List[Tensor], bbox_preds, dir_cls_preds,
                     batch_gt_instances_3d, batch_input_metas,
                     batch_gt_instances_ignore: Optional[list] = None):
        self._scored_gt = batch_gt_instances_3d
        try:
            return super().loss_by_feat(cls_scores, bbox_preds, dir_cls_preds,
                                        batch_gt_instances_3d,
                                        batch_input_metas,
                                        batch_gt_instances_ignore)
        finally:
            self._scored_gt = None

    def _positive_weights(self, pos: Tensor, anchors: Tensor,
                          bbox_targets: Tensor) -> Optional[Tensor]:
        gts = getattr(self, '_scored_gt', None)
        if not gts or len(pos) == 0:
            return None
        per_sample = anchors.shape[0] // len(gts)
        targets = self.bbox_coder.decode(anchors[pos], bbox_targets[pos])
        scores = targets.new_full((len(pos), ), -1.0)
        sample = torch.div(pos, per_sample, rounding_mode='floor')
        for b, inst in enumerate(gts):
            sel = sample == b
            if not bool(sel.any()) or 'scores_3d' not in inst:
                continue
            boxes = inst.bboxes_3d
            # mmdet3d's target assignment may have replaced the boxes by
            # their tensor
            boxes = getattr(boxes, 'tensor', boxes)[:, :7].to(targets.device)
            scores[sel] = match_box_scores(
                targets[sel], boxes, inst.scores_3d.to(targets.device))
        return pseudo_label_weight(scores)
