"""Anchor head of the CMKD student (CMKD, Hong et al., ECCV 2022: the
student's BEV detection head, the SECOND-style anchor head of the reference,
``Cc-Hy/CMKD:pcdet/models/dense_heads/anchor_head_single.py``)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet3d.models.dense_heads import Anchor3DHead
from mmdet3d.models.layers import nms_bev
from mmdet3d.registry import MODELS
from mmdet3d.structures import limit_period, xywhr2xyxyr
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor


def class_agnostic_nms(boxes_bev: Tensor, scores: Tensor, score_thr: float,
                       iou_thr: float, nms_pre: int,
                       max_num: int) -> Tensor:
    """OpenPCDet's ``class_agnostic_nms``: keep scores >= ``score_thr``, the
    ``nms_pre`` best, rotated BEV NMS over all classes at ``iou_thr``, at
    most ``max_num``. ``boxes_bev`` (N, 5) x, y, w, h, yaw; returns indices
    into the inputs."""
    cand = torch.nonzero(scores >= score_thr, as_tuple=True)[0]
    if len(cand) == 0:
        return cand
    keep = nms_bev(xywhr2xyxyr(boxes_bev[cand]), scores[cand], iou_thr,
                   nms_pre, max_num)
    return cand[keep]


@MODELS.register_module()
class CMKDAnchor3DHead(Anchor3DHead):
    """``Anchor3DHead`` with CMKD's defaults and post-processing: direction
    offset pi/4 and limit offset 0 (mmdet3d's default is -pi/2); sigmoid
    scores, max over classes, class-agnostic rotated NMS
    (``test_cfg``: ``score_thr`` 0.1, ``nms_thr`` 0.01, ``nms_pre`` 4096,
    ``max_num`` 500 in the CMKD configs). Same parameters as
    ``Anchor3DHead``, so teacher head weights load into it.

    :meth:`loss_by_teacher` is the paper's response distillation (CMKD,
    Hong et al., ECCV 2022; ``Cc-Hy/CMKD:pcdet/models/dense_heads/
    anchor_head_single_cmkd.py``) against the raw outputs of a teacher head
    with the same anchors:
    ``loss_resp_cls`` (``SoftQualityFocalLoss``), ``loss_resp_bbox``
    (``SoftBoxRegressionLoss``) and ``loss_resp_dir``
    (``SoftDirectionLoss``), the last two weighted by the teacher's
    confidence. ``loss()`` keeps its ground-truth meaning.
    """

    def __init__(self,
                 *args,
                 dir_offset: float = 0.78539,
                 dir_limit_offset: float = 0.0,
                 loss_resp_cls: Optional[dict] = dict(
                     type='SoftQualityFocalLoss', loss_weight=8.0),
                 loss_resp_bbox: Optional[dict] = dict(
                     type='SoftBoxRegressionLoss', loss_weight=2.0),
                 loss_resp_dir: Optional[dict] = dict(
                     type='SoftDirectionLoss', loss_weight=0.4),
                 resp_pos_thr: float = 0.1,
                 **kwargs) -> None:
        super().__init__(*args, dir_offset=dir_offset,
                         dir_limit_offset=dir_limit_offset, **kwargs)
        self.loss_resp_cls = MODELS.build(loss_resp_cls) \
            if loss_resp_cls else None
        self.loss_resp_bbox = MODELS.build(loss_resp_bbox) \
            if loss_resp_bbox else None
        self.loss_resp_dir = MODELS.build(loss_resp_dir) \
            if loss_resp_dir and self.use_direction_classifier else None
        self.resp_pos_thr = resp_pos_thr

    def _flat(self, maps: Sequence[Tensor], channels: int) -> Tensor:
        """Per-level (B, A * k, H, W) maps -> (B, N, k) in anchor order."""
        b = maps[0].shape[0]
        return torch.cat([
            m.permute(0, 2, 3, 1).reshape(b, -1, channels) for m in maps
        ], 1)

    def loss_by_teacher(self, student_outs: tuple,
                        teacher_outs: tuple) -> Dict[str, Tensor]:
        """Response distillation from the teacher head's raw outputs.

        Args:
            student_outs (tuple): This head's ``(cls_scores, bbox_preds,
                dir_cls_preds)``, lists over levels of (B, A * C, H, W),
                (B, A * 7, H, W) and (B, A * 2, H, W).
            teacher_outs (tuple): The teacher head's, of the same shapes
                (same anchors).

        Returns:
            dict[str, Tensor]: Scalars ``loss_resp_cls``, ``loss_resp_bbox``
            and ``loss_resp_dir`` (those whose loss is configured); box and
            direction are weighted per anchor by the teacher's confidence
            (:func:`~cmkd_mmdet3d.models.losses.teacher_confidence_weights`:
            summed sigmoid scores above ``resp_pos_thr``, normalised per
            sample).

        Raises:
            ValueError: If the two heads' outputs differ in shape.
        """
        from ..losses import teacher_confidence_weights
        if len(student_outs) != len(teacher_outs) or any(
                s.shape != t.shape for ss, ts in zip(student_outs,
                                                     teacher_outs)
                for s, t in zip(ss, ts)):
            raise ValueError(
                'student and teacher head outputs differ in shape: '
                f'{[[tuple(s.shape) for s in x] for x in student_outs]} vs '
                f'{[[tuple(t.shape) for t in x] for x in teacher_outs]}; '
                'they need the same anchors')
        s_cls = self._flat(student_outs[0], self.num_classes)
        t_cls = self._flat(teacher_outs[0], self.num_classes)
        losses = {}
        if self.loss_resp_cls is not None:
            losses['loss_resp_cls'] = self.loss_resp_cls(s_cls, t_cls)
        weight = teacher_confidence_weights(t_cls, self.resp_pos_thr)
        if self.loss_resp_bbox is not None:
            losses['loss_resp_bbox'] = self.loss_resp_bbox(
                self._flat(student_outs[1], self.box_code_size),
                self._flat(teacher_outs[1], self.box_code_size), weight)
        if self.loss_resp_dir is not None:
            losses['loss_resp_dir'] = self.loss_resp_dir(
                self._flat(student_outs[2], 2),
                self._flat(teacher_outs[2], 2), weight)
        return losses

    def _predict_by_feat_single(self, cls_score_list: List[Tensor],
                                bbox_pred_list: List[Tensor],
                                dir_cls_pred_list: List[Tensor],
                                mlvl_priors: List[Tensor], input_meta: dict,
                                cfg: ConfigDict, rescale: bool = False,
                                **kwargs) -> InstanceData:
        cfg = self.test_cfg if cfg is None else cfg
        scores, boxes, dirs = [], [], []
        for cls_score, bbox_pred, dir_pred, priors in zip(
                cls_score_list, bbox_pred_list, dir_cls_pred_list,
                mlvl_priors):
            scores.append(
                cls_score.permute(1, 2, 0).reshape(-1,
                                                   self.num_classes).sigmoid())
            boxes.append(
                self.bbox_coder.decode(
                    priors,
                    bbox_pred.permute(1, 2, 0).reshape(-1,
                                                       self.box_code_size)))
            dirs.append(dir_pred.permute(1, 2, 0).reshape(-1, 2).argmax(-1))
        scores, boxes, dirs = torch.cat(scores), torch.cat(boxes), \
            torch.cat(dirs)
        # direction decode before NMS, as OpenPCDet (the BEV footprint does
        # not depend on it)
        rot = limit_period(boxes[:, 6] - self.dir_offset,
                           self.dir_limit_offset, np.pi)
        boxes[:, 6] = rot + self.dir_offset + np.pi * dirs.to(boxes.dtype)
        max_scores, labels = scores.max(1)
        bev = input_meta['box_type_3d'](boxes, box_dim=self.box_code_size).bev
        keep = class_agnostic_nms(bev, max_scores, cfg.get('score_thr', 0.1),
                                  cfg.get('nms_thr', 0.01),
                                  cfg.get('nms_pre', 4096),
                                  cfg.get('max_num', 500))
        results = InstanceData()
        results.bboxes_3d = input_meta['box_type_3d'](
            boxes[keep], box_dim=self.box_code_size)
        results.scores_3d = max_scores[keep]
        results.labels_3d = labels[keep]
        return results
