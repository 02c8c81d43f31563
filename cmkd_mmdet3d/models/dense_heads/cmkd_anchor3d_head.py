"""Anchor head of the CMKD student (spec 2.4)."""
from typing import List

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
    ``Anchor3DHead``, so teacher head weights load into it."""

    def __init__(self, *args, dir_offset: float = 0.78539,
                 dir_limit_offset: float = 0.0, **kwargs) -> None:
        super().__init__(*args, dir_offset=dir_offset,
                         dir_limit_offset=dir_limit_offset, **kwargs)

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
