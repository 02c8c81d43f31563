"""CenterHead for boxes without velocity (KITTI), with the task heads
initialised as the reference's."""
from typing import Dict, List, Optional, Tuple

import torch
from mmdet3d.models.dense_heads import CenterHead
from mmdet3d.registry import MODELS
from mmengine.structures import InstanceData
from torch import Tensor, nn


@MODELS.register_module()
class CMKDCenterHead(CenterHead):
    """``CenterHead`` for 7-DoF boxes, as CMKD's CenterPoint teacher and
    student (``Cc-Hy/CMKD:pcdet/models/dense_heads/center_head.py``: one
    task with the 3 KITTI classes, heads reg 2, height 1, dim 3, rot 2).

    mmdet3d 1.4's ``CenterHead`` always unpacks a velocity from
    ``bboxes_3d[:, 7:]`` into the regression target and concatenates a
    ``vel`` prediction in ``loss_by_feat``, so it fails on KITTI boxes. Here
    the boxes get zero velocity for the target assignment and the velocity
    columns are dropped again, and the loss sees an empty ``vel``: targets
    have 8 codes (dx, dy, z, log l, log w, log h, sin, cos) and
    ``code_weights`` has 8 entries. Parameters are ``CenterHead``'s, so
    weights load either way.

    :meth:`loss_by_teacher` is the paper's response distillation (CMKD,
    Hong et al., ECCV 2022;
    ``Cc-Hy/CMKD:pcdet/models/dense_heads/center_head_soft.py``)
    (``loss_resp_heatmap``: ``SoftHeatmapLoss``, ``loss_resp_bbox``:
    ``SoftCenterRegressionLoss`` on the 8 box maps), with configurable
    weights where the reference hard-codes them. With nuScenes' 9-DoF boxes
    (a ``vel`` head) it is mmdet3d's ``CenterHead`` with the velocity.

    Args:
        loss_resp_heatmap (dict, optional): Heatmap response loss, per task.
        loss_resp_bbox (dict, optional): Box-map response loss, per task.
        resp_bbox_per_head (bool): False (the KITTI reference): one loss on
            the box maps concatenated (reg, height, dim, rot and vel when
            present); True (CMKD-MV, ``Cc-Hy/CMKD-MV:mmdet3d/models/
            detectors/bevdet.py``): the loss of each of those heads
            separately, summed.
    """

    #: The regression heads distilled, in the order of the box maps.
    resp_heads = ('reg', 'height', 'dim', 'rot', 'vel')

    def __init__(self,
                 *args,
                 loss_resp_heatmap: Optional[dict] = dict(
                     type='SoftHeatmapLoss', loss_weight=1.0),
                 loss_resp_bbox: Optional[dict] = dict(
                     type='SoftCenterRegressionLoss', loss_weight=32.0),
                 resp_bbox_per_head: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.resp_bbox_per_head = resp_bbox_per_head
        self.loss_resp_heatmap = MODELS.build(loss_resp_heatmap) \
            if loss_resp_heatmap else None
        self.loss_resp_bbox = MODELS.build(loss_resp_bbox) \
            if loss_resp_bbox else None

    def init_weights(self) -> None:
        """Initialise the task heads as OpenPCDet's ``SeparateHead`` (which
        the reference uses, ``Cc-Hy/CMKD:pcdet/models/dense_heads/
        center_head.py``): the heatmap's last bias set to ``init_bias``
        (-2.19, a prior of 0.1) and its weights left at PyTorch's default;
        the convolutions of the other heads Kaiming-normal with zero bias.

        mmdet3d 1.4's ``CenterHead`` keeps its ``SeparateHead`` s in an
        ``nn.ModuleList``, which mmengine's ``BaseModule.init_weights`` does
        not descend into, so without this they keep PyTorch's default init,
        heatmap bias included (open-mmlab/mmdetection3d#1554, open). Their
        own ``init_weights`` would not serve either: it also gives the
        heatmap convolutions Kaiming weights, whose logits start with a
        spread of several units and a focal loss in the thousands. Heads
        initialised already are left alone.
        """
        super().init_weights()
        for head in self.task_heads:
            if getattr(head, 'is_init', False):
                continue
            for name in head.heads:
                layers = getattr(head, name)
                if name == 'heatmap':
                    nn.init.constant_(layers[-1].bias, head.init_bias)
                    continue
                for m in layers.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight)
                        if m.bias is not None:
                            nn.init.zeros_(m.bias)
            head._is_init = True

    def _box_maps(self, preds: dict) -> List[Tensor]:
        """The distilled regression maps of one task, (B, k, H, W) each."""
        return [preds[k] for k in self.resp_heads
                if k in preds and preds[k].shape[1] > 0]

    def loss_by_teacher(self, student_outs: tuple,
                        teacher_outs: tuple) -> Dict[str, Tensor]:
        """Response distillation from the raw outputs of this head and of
        the teacher's.

        Args:
            student_outs, teacher_outs (tuple): ``forward`` of the two
                heads: per task a list with one dict of (B, k, H, W) maps
                (``heatmap``, ``reg``, ``height``, ``dim``, ``rot`` and
                ``vel`` with velocities).

        Returns:
            dict[str, Tensor]: ``task{i}.loss_resp_heatmap`` and
            ``task{i}.loss_resp_bbox`` per task.
        """
        if len(student_outs) != len(teacher_outs):
            raise ValueError(f'student has {len(student_outs)} tasks, the '
                             f'teacher {len(teacher_outs)}')
        losses = {}
        for task, (s, t) in enumerate(zip(student_outs, teacher_outs)):
            s, t = s[0], t[0]
            if self.loss_resp_heatmap is not None:
                losses[f'task{task}.loss_resp_heatmap'] = \
                    self.loss_resp_heatmap(s['heatmap'], t['heatmap'])
            if self.loss_resp_bbox is None:
                continue
            s_maps, t_maps = self._box_maps(s), self._box_maps(t)
            if len(s_maps) != len(t_maps):
                raise ValueError(f'task {task}: the student has the heads '
                                 f'{sorted(s)}, the teacher {sorted(t)}')
            if self.resp_bbox_per_head:
                losses[f'task{task}.loss_resp_bbox'] = sum(
                    self.loss_resp_bbox(a, b, t['heatmap'])
                    for a, b in zip(s_maps, t_maps))
            else:
                losses[f'task{task}.loss_resp_bbox'] = self.loss_resp_bbox(
                    torch.cat(s_maps, 1), torch.cat(t_maps, 1),
                    t['heatmap'])
        return losses

    def get_targets_single(self,
                           gt_instances_3d: InstanceData) -> Tuple[Tensor]:
        boxes = gt_instances_3d.bboxes_3d
        if 'vel' in self.task_heads[0].heads or boxes.tensor.shape[1] != 7:
            return super().get_targets_single(gt_instances_3d)
        t = boxes.tensor
        padded = type(boxes)(torch.cat([t, t.new_zeros(len(t), 2)], 1),
                             box_dim=9)
        inst = InstanceData(bboxes_3d=padded,
                            labels_3d=gt_instances_3d.labels_3d)
        heatmaps, anno_boxes, inds, masks = super().get_targets_single(inst)
        return heatmaps, [a[:, :8] for a in anno_boxes], inds, masks

    def loss_by_feat(self, preds_dicts: Tuple[List[dict]],
                     batch_gt_instances_3d: List[InstanceData], *args,
                     **kwargs):
        for preds in preds_dicts:
            if 'vel' not in preds[0]:
                reg = preds[0]['reg']
                preds[0]['vel'] = reg.new_zeros(reg.shape[0], 0,
                                                *reg.shape[2:])
        return super().loss_by_feat(preds_dicts, batch_gt_instances_3d,
                                    *args, **kwargs)
