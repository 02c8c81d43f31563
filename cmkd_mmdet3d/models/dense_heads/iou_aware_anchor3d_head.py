"""Anchor3DHead with the IoU-aware quality-focal classification of CMKD's
SECOND teacher (``AnchorHeadSingleQFL``)."""
from typing import List, Optional

import torch
from torch import Tensor

from mmdet3d.models.dense_heads import Anchor3DHead
from mmdet3d.registry import MODELS
from ..utils import aligned_iou_3d


@MODELS.register_module()
class IoUAwareAnchor3DHead(Anchor3DHead):
    """The only difference with ``Anchor3DHead`` is the classification target.

    At every positive anchor the target is the 3D IoU between the box decoded
    from the (detached) prediction and the assigned ground-truth box, placed
    in that box's class channel; every other entry is 0. ``loss_cls`` must
    accept such (N, C) soft targets, e.g. ``mmdet.QualityFocalLoss``
    (BCE(sigmoid(z), t) * |sigmoid(z) - t| ** beta). The loss is divided by the
    number of positive anchors with IoU > 0 in the batch (the reference
    divides per sample; with the same positives per sample the two agree).
    The teacher's scores thereby rank boxes by localisation quality, which
    matters because they become the student's soft targets. Box and
    direction losses are unchanged. Single feature level only (as on KITTI).
    """

    def _init_assigner_sampler(self):
        # Anchor3DHead samples unless the loss is a focal loss; QFL is one in
        # spirit: every anchor contributes, no sampling.
        self.sampling = False
        super()._init_assigner_sampler()

    def get_anchors(self, featmap_sizes, input_metas, device='cuda'):
        anchors = super().get_anchors(featmap_sizes, input_metas, device)
        # kept for _loss_by_feat_single, which mmdet3d calls without anchors
        self._loss_anchors = anchors
        return anchors

    def loss_by_feat(self, cls_scores: List[Tensor], *args, **kwargs):
        if len(cls_scores) != 1:
            raise ValueError('IoUAwareAnchor3DHead supports one feature '
                             f'level, got {len(cls_scores)}')
        return super().loss_by_feat(cls_scores, *args, **kwargs)

    def _positive_weights(self, pos: Tensor, anchors: Tensor,
                          bbox_targets: Tensor) -> Optional[Tensor]:
        """Per-positive-anchor loss weights (P,); None: all 1."""
        return None

    def _loss_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor,
                             dir_cls_pred: Tensor, labels: Tensor,
                             label_weights: Tensor, bbox_targets: Tensor,
                             bbox_weights: Tensor, dir_targets: Tensor,
                             dir_weights: Tensor, num_total_samples: int):
        anchors = torch.cat(
            [a[0].reshape(-1, self.box_code_size) for a in
             self._loss_anchors])
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.num_classes)
        bbox_pred = bbox_pred.permute(0, 2, 3,
                                      1).reshape(-1, self.box_code_size)
        bbox_targets = bbox_targets.reshape(-1, self.box_code_size)
        bbox_weights = bbox_weights.reshape(-1, self.box_code_size)
        pos = ((labels >= 0) & (labels < self.num_classes)).nonzero(
            as_tuple=False).reshape(-1)

        # IoU-aware classification target
        target = cls_score.new_zeros(cls_score.shape)
        with torch.no_grad():
            if len(pos):
                pred_boxes = self.bbox_coder.decode(anchors[pos],
                                                    bbox_pred[pos].detach())
                gt_boxes = self.bbox_coder.decode(anchors[pos],
                                                  bbox_targets[pos])
                iou = aligned_iou_3d(pred_boxes, gt_boxes)
                target[pos, labels[pos]] = iou
                num_iou = int((iou > 0).sum())
            else:
                num_iou = 0
            weights = self._positive_weights(pos, anchors, bbox_targets)
            if weights is not None:
                label_weights = label_weights.clone()
                label_weights[pos] = label_weights[pos] * weights
                bbox_weights = bbox_weights.clone()
                bbox_weights[pos] = bbox_weights[pos] * weights[:, None]
        loss_cls = self.loss_cls(
            cls_score, target, label_weights, avg_factor=max(num_iou, 1))

        pos_bbox_pred = bbox_pred[pos]
        pos_bbox_targets = bbox_targets[pos]
        pos_bbox_weights = bbox_weights[pos]
        if self.use_direction_classifier:
            pos_dir_pred = dir_cls_pred.permute(0, 2, 3, 1).reshape(-1, 2)[pos]
            pos_dir_targets = dir_targets.reshape(-1)[pos]
            pos_dir_weights = dir_weights.reshape(-1)[pos]
        loss_dir = None
        if len(pos) > 0:
            code_weight = self.train_cfg.get('code_weight', None)
            if code_weight:
                pos_bbox_weights = pos_bbox_weights * \
                    bbox_weights.new_tensor(code_weight)
            if self.diff_rad_by_sin:
                pos_bbox_pred, pos_bbox_targets = self.add_sin_difference(
                    pos_bbox_pred, pos_bbox_targets)
            loss_bbox = self.loss_bbox(pos_bbox_pred, pos_bbox_targets,
                                       pos_bbox_weights,
                                       avg_factor=num_total_samples)
            if self.use_direction_classifier:
                loss_dir = self.loss_dir(pos_dir_pred, pos_dir_targets,
                                         pos_dir_weights,
                                         avg_factor=num_total_samples)
        else:
            loss_bbox = pos_bbox_pred.sum()
            if self.use_direction_classifier:
                loss_dir = pos_dir_pred.sum()
        return loss_cls, loss_bbox, loss_dir
