"""Anchor head trained on pseudo-labels with their scores: the V1 student of
CMKD (Hong et al., ECCV 2022, learning from unlabeled data with the
teacher's pseudo-labels), after the reference's ``AnchorHeadSingleCMKD``
(``Cc-Hy/CMKD:pcdet/models/dense_heads/anchor_head_single_cmkd.py``) and
``AxisAlignedTargetAssignerScore``
(``Cc-Hy/CMKD:pcdet/models/dense_heads/target_assigner/
axis_aligned_target_assigner_score.py``).
"""
from typing import Optional, Tuple

import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet3d.registry import MODELS
from .cmkd_anchor3d_head import CMKDAnchor3DHead
from .iou_aware_anchor3d_head import IoUAwareAnchor3DHead


def pseudo_label_weight(scores: Tensor) -> Tensor:
    """Loss weight of an anchor from the score of its box: ``2 * score``
    (a score-0.5 pseudo box weighs as much as ground truth); ground truth
    carries score -1, read as 0.5 (weight 1), as the reference's dataset
    maps it.

    Args:
        scores (Tensor): (P,) scores of the boxes, -1 for ground truth.

    Returns:
        Tensor: (P,) weights, ``1`` where ``scores < 0``, else
        ``2 * scores``.
    """
    return torch.where(scores < 0, torch.ones_like(scores), 2 * scores)


class _RecordingAssigner:
    """An assigner that keeps the ``AssignResult`` of its last call, from
    which the anchor targets' ``pos_assigned_gt_inds`` are read."""

    def __init__(self, assigner) -> None:
        self.assigner = assigner
        self.result = None

    def assign(self, *args, **kwargs):
        self.result = self.assigner.assign(*args, **kwargs)
        return self.result


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
      by :func:`pseudo_label_weight` of the score of the box the assigner
      gave it (``gt_instances_3d.scores_3d[pos_assigned_gt_inds]``, in
      :meth:`anchor_target_single_assigner`; frames without scores are
      ground truth, weight 1). Negative anchors and the direction loss keep
      weight 1.

    Inference, ``loss_by_teacher`` and the weights are CMKDAnchor3DHead's,
    so it loads teacher heads and student checkpoints alike.
    ``assign_per_class=True`` is refused: mmdet3d's per-class ground-truth
    subsets keep boxes and labels only.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.assign_per_class:
            raise ValueError(
                'ScoreWeightedAnchor3DHead does not support '
                'assign_per_class=True: mmdet3d builds the per-class ground '
                'truth from boxes and labels only, dropping scores_3d')

    def anchor_target_single_assigner(
            self, bbox_assigner, anchors: Tensor,
            gt_instance_3d: InstanceData,
            gt_instance_ignore: Optional[InstanceData], input_meta: dict,
            num_classes: int = 1, sampling: bool = True) -> Tuple[Tensor, ...]:
        """``Anchor3DHead``'s anchor targets of one sample for one assigner,
        with the classification and box weights of each positive anchor
        multiplied by :func:`pseudo_label_weight` of the score of its
        assigned box.

        Args:
            bbox_assigner: The assigner (``Max3DIoUAssigner``).
            anchors (Tensor): (..., 7) anchors, read as (A, 7).
            gt_instance_3d (InstanceData): ``bboxes_3d`` (M boxes),
                ``labels_3d`` (M,) and optionally ``scores_3d`` (M,).
            gt_instance_ignore (InstanceData, optional): Ignored boxes.
            input_meta (dict): The sample's meta info.
            num_classes (int): C.
            sampling (bool): Whether the sampler samples.

        Returns:
            tuple[Tensor]: ``labels`` (A,), ``label_weights`` (A,),
            ``bbox_targets`` (A, 7), ``bbox_weights`` (A, 7),
            ``dir_targets`` (A,), ``dir_weights`` (A,), ``pos_inds`` (P,),
            ``neg_inds`` (N,), as mmdet3d's ``AnchorTrainMixin``; with scores,
            ``label_weights[pos_inds]`` and ``bbox_weights[pos_inds]`` are
            scaled by the weights of ``scores_3d[pos_assigned_gt_inds]``.
        """
        scores = gt_instance_3d.get('scores_3d', None)
        if scores is None:
            return super().anchor_target_single_assigner(
                bbox_assigner, anchors, gt_instance_3d, gt_instance_ignore,
                input_meta, num_classes, sampling)
        recorder = _RecordingAssigner(bbox_assigner)
        targets = super().anchor_target_single_assigner(
            recorder, anchors, gt_instance_3d, gt_instance_ignore,
            input_meta, num_classes, sampling)
        label_weights, bbox_weights, pos_inds = (targets[1], targets[3],
                                                 targets[6])
        if len(pos_inds):
            # the samplers' pos_assigned_gt_inds: gt_inds[pos_inds] - 1
            gt_inds = recorder.result.gt_inds[pos_inds] - 1
            w = pseudo_label_weight(
                scores.to(label_weights.device)[gt_inds]).to(
                    label_weights.dtype)
            label_weights[pos_inds] = label_weights[pos_inds] * w
            bbox_weights[pos_inds] = bbox_weights[pos_inds] * w[:, None]
        return targets
