"""CMKD's distillation losses (CMKD, Hong et al., ECCV 2022: BEV feature
distillation and BEV response distillation; the anchor-head responses as
``Cc-Hy/CMKD:pcdet/models/dense_heads/anchor_head_single_qfl.py``).

Every loss is averaged over the samples of the batch with normalisers per
sample, so its value does not depend on the per-GPU batch size. Where the
reference sums over the batch instead, the docstring says so and the
configs multiply the weight by the reference's 4 samples per GPU, so that
the effective loss at 4 samples per GPU equals the reference's.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.losses.gfocal_loss import quality_focal_loss_tensor_target
from mmdet.models.losses.smooth_l1_loss import smooth_l1_loss
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from ...structures.geometry import bev_cell_centers


def _check_pair(student: Tensor, teacher: Tensor, what: str) -> None:
    if student.shape != teacher.shape:
        raise ValueError(f'{what}: student {tuple(student.shape)} and '
                         f'teacher {tuple(teacher.shape)} differ')


def bev_box_mask(boxes: Tensor, point_cloud_range, cell, shape) -> Tensor:
    """(Y, X) bool: BEV cells whose centre lies inside one of the LiDAR
    boxes (N, >= 7: x, y, z, l, w, h, yaw) on the grid starting at
    ``point_cloud_range[:2]`` with ``cell`` (cx, cy) metres."""
    ny, nx = shape
    dev = boxes.device
    xs, ys = bev_cell_centers(point_cloud_range, cell, (nx, ny), device=dev)
    mask = torch.zeros(ny, nx, dtype=torch.bool, device=dev)
    if len(boxes) == 0:
        return mask
    b = boxes[:, None, None, :].float()
    dx = xs[None, None, :] - b[..., 0]
    dy = ys[None, :, None] - b[..., 1]
    cos, sin = torch.cos(b[..., 6]), torch.sin(b[..., 6])
    along = dx * cos + dy * sin
    across = -dx * sin + dy * cos
    inside = (along.abs() <= b[..., 3] / 2) & (across.abs() <= b[..., 4] / 2)
    return inside.any(0)


@MODELS.register_module()
class BEVFeatureDistillLoss(nn.Module):
    """MSE between the student's BEV map (after SCNet) and the teacher's
    (before its BEV backbone), (B, C, H, W) each (CMKD's BEV feature
    distillation).

    ``loss_weight * mean_b [ sum_{c,h,w} M (Fs - Ft)^2 / (C * sum_{h,w} M) ]``
    with M = 1 (default: the plain MSE of the reference), or the
    ``nonzero`` mask of the reference's ``use_nonzero_mask`` (1 where the
    teacher's channels do not all vanish, ``background_weight`` elsewhere),
    or the ``gt_boxes`` mask (1 inside ground-truth boxes, see
    :func:`bev_box_mask`, ``background_weight`` elsewhere; CMKD builds it;
    the reference's early code had it with 0.3 and dropped it), or any mask
    (B, 1 or C, H, W) given to ``forward``. Default weight 32 (4 for the
    KITTI-only PointPillars configs).
    """

    def __init__(self, loss_weight: float = 32.0, mask: Optional[str] = None,
                 background_weight: float = 0.05) -> None:
        super().__init__()
        if mask not in (None, 'nonzero', 'gt_boxes'):
            raise ValueError("mask must be None, 'nonzero' or 'gt_boxes', "
                             f'got {mask!r}')
        self.loss_weight, self.mask = loss_weight, mask
        self.background_weight = background_weight

    def forward(self, student: Tensor, teacher: Tensor,
                mask: Optional[Tensor] = None) -> Tensor:
        _check_pair(student, teacher, 'BEV maps')
        sq = (student.float() - teacher.float()).pow(2)
        b, c = sq.shape[:2]
        if mask is None and self.mask == 'nonzero':
            nonzero = (teacher.abs().sum(1, keepdim=True) > 0).float()
            mask = nonzero + (1 - nonzero) * self.background_weight
        if mask is None:
            per_sample = sq.reshape(b, -1).mean(1)
        else:
            mask = mask.float().expand(b, -1, *sq.shape[2:])
            m = mask.expand_as(sq)
            norm = m.reshape(b, -1).sum(1).clamp(min=1e-6)
            per_sample = (sq * m).reshape(b, -1).sum(1) / norm
        return self.loss_weight * per_sample.mean()


@MODELS.register_module()
class SoftQualityFocalLoss(nn.Module):
    """Quality focal loss against the teacher's probabilities (CMKD's BEV
    response distillation of an anchor head):
    ``loss(student_logits, teacher_logits)`` on (B, N, K) logits.

    Per element mmdet's ``quality_focal_loss_tensor_target``:
    BCE(z_s, t) |sigmoid(z_s) - t|^beta with t = sigmoid(z_t); summed per
    sample and class, divided by the number of teacher probabilities above
    ``pos_thr`` (0.1) of that sample and class (at least 1), summed over
    classes and averaged over the batch. The reference sums over the batch
    (its weight scales with the per-GPU batch size); the configs use 4x its
    weight (scd 2.0 -> 8.0, pp 1.0 -> 4.0).
    """

    def __init__(self, beta: float = 2.0, pos_thr: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta, self.pos_thr, self.loss_weight = beta, pos_thr, loss_weight

    def forward(self, student_logits: Tensor,
                teacher_logits: Tensor) -> Tensor:
        _check_pair(student_logits, teacher_logits, 'class logits')
        if student_logits.dim() != 3:
            raise ValueError('logits must be (B, N, K), got '
                             f'{tuple(student_logits.shape)}')
        t = teacher_logits.detach().float().sigmoid()
        z = student_logits.float()
        loss = quality_focal_loss_tensor_target(
            z.reshape(-1, 1), t.reshape(-1, 1), beta=self.beta,
            activated=False, reduction='none').reshape(z.shape)
        norm = (t > self.pos_thr).sum(1).clamp(min=1).float()    # (B, K)
        per_sample = (loss.sum(1) / norm).sum(1)
        return self.loss_weight * per_sample.mean()


def teacher_confidence_weights(teacher_logits: Tensor,
                               pos_thr: float = 0.1) -> Tensor:
    """omega (B, N) of the anchor response distillation: s = sum_c
    sigmoid(z_t), positives s >
    ``pos_thr``, omega = P * s / max(#P per sample, 1)."""
    s = teacher_logits.detach().float().sigmoid().sum(-1)
    pos = (s > pos_thr).float()
    return pos * s / pos.sum(1, keepdim=True).clamp(min=1)


def add_sin_difference(student: Tensor, teacher: Tensor, dim: int = 6):
    """SECOND's trick: code ``dim`` becomes sin(a_s)cos(a_t) for the
    student and cos(a_s)sin(a_t) for the teacher, so that their difference
    is sin(a_s - a_t)."""
    s_rot = torch.sin(student[..., dim:dim + 1]) * \
        torch.cos(teacher[..., dim:dim + 1])
    t_rot = torch.cos(student[..., dim:dim + 1]) * \
        torch.sin(teacher[..., dim:dim + 1])
    return (torch.cat([student[..., :dim], s_rot, student[..., dim + 1:]],
                      -1),
            torch.cat([teacher[..., :dim], t_rot, teacher[..., dim + 1:]],
                      -1))


@MODELS.register_module()
class SoftBoxRegressionLoss(nn.Module):
    """Confidence-weighted SmoothL1 between student and teacher box codes
    (B, N, 7) at the same anchors (the anchor response distillation), with
    the sin-difference on the
    angle: ``loss_weight * mean_b sum_n omega_bn sum_k SmoothL1(...)``,
    omega from :func:`teacher_confidence_weights` (B, N). NaN targets are
    ignored. Same batch averaging as the reference."""

    def __init__(self, beta: float = 1.0 / 9.0, loss_weight: float = 1.0,
                 code_weights: Optional[list] = None) -> None:
        super().__init__()
        self.beta, self.loss_weight = beta, loss_weight
        self.code_weights = code_weights

    def forward(self, student: Tensor, teacher: Tensor,
                weight: Tensor) -> Tensor:
        _check_pair(student, teacher, 'box codes')
        s, t = add_sin_difference(student.float(), teacher.detach().float())
        valid = torch.isfinite(t)
        t = torch.where(valid, t, s.detach())
        loss = smooth_l1_loss(s, t, beta=self.beta, reduction='none')
        loss = loss * valid.float()
        if self.code_weights is not None:
            loss = loss * loss.new_tensor(self.code_weights)
        per_sample = (loss.sum(-1) * weight).sum(1)
        return self.loss_weight * per_sample.mean()


@MODELS.register_module()
class SoftDirectionLoss(nn.Module):
    """Confidence-weighted cross-entropy of the student's direction logits
    (B, N, 2) against the teacher's argmax (the reference's "soft" target
    is a hard argmax too): ``loss_weight * mean_b sum_n omega_bn CE``."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, student: Tensor, teacher: Tensor,
                weight: Tensor) -> Tensor:
        _check_pair(student, teacher, 'direction logits')
        label = teacher.detach().argmax(-1)
        ce = F.cross_entropy(student.float().flatten(0, 1),
                             label.flatten(), reduction='none')
        per_sample = (ce.reshape(label.shape) * weight).sum(1)
        return self.loss_weight * per_sample.mean()


@MODELS.register_module()
class SoftHeatmapLoss(nn.Module):
    """Center-head response (CMKD's BEV response distillation with a
    CenterPoint head): the quality focal loss BCE(p, t) |p - t|^beta on
    probabilities, p = clamp(sigmoid(z_s), 1e-4, 1 - 1e-4), t =
    sigmoid(z_t), (B, K, H, W), summed and divided by the number of teacher
    probabilities above ``pos_thr``.

    Args:
        beta (float): The modulating exponent. Defaults to 2.
        pos_thr (float): Teacher probabilities counted by the normaliser:
            0.3 (``Cc-Hy/CMKD:pcdet/models/dense_heads/center_head_soft.py``)
            or 0.5 (CMKD-MV, ``Cc-Hy/CMKD-MV:mmdet3d/models/detectors/
            bevdet.py``, which counts >= 0.5).
        normalizer (str): ``'sample'`` (default: each sample divided by its
            own count, then averaged over the batch) or ``'batch'`` (the
            batch sum divided by one batch-wide count, as both references
            do; with 4 samples per GPU about 1/4 of the per-sample value).
        modulate_on_logits (bool): CMKD-MV's quirk, kept for fidelity: the
            modulating factor |z_s - t|^beta on the student's *logits*
            (its ``QualityFocalLoss`` called with ``use_sigmoid=False``);
            the BCE then on logits without the clamp. Default False, the
            quality focal loss as defined (Li et al., NeurIPS 2020).
        loss_weight (float): 1.0 (KITTI reference), 0.2 (CMKD-MV).
    """

    def __init__(self, beta: float = 2.0, pos_thr: float = 0.3,
                 loss_weight: float = 1.0, normalizer: str = 'sample',
                 modulate_on_logits: bool = False) -> None:
        super().__init__()
        if normalizer not in ('sample', 'batch'):
            raise ValueError("SoftHeatmapLoss: normalizer must be 'sample' "
                             f"or 'batch', got {normalizer!r}")
        self.beta, self.pos_thr, self.loss_weight = beta, pos_thr, loss_weight
        self.normalizer = normalizer
        self.modulate_on_logits = modulate_on_logits

    def forward(self, student_logits: Tensor,
                teacher_logits: Tensor) -> Tensor:
        """Args:
            student_logits, teacher_logits (Tensor): (B, K, H, W) heatmap
                logits.

        Returns:
            Tensor: the scalar loss.
        """
        _check_pair(student_logits, teacher_logits, 'heatmaps')
        z = student_logits.float()
        t = teacher_logits.detach().float().sigmoid()
        b = z.shape[0]
        if self.modulate_on_logits:
            loss = F.binary_cross_entropy_with_logits(
                z, t, reduction='none') * (z - t).abs().pow(self.beta)
            loss = loss.reshape(b, -1)
        else:
            p = z.sigmoid().clamp(1e-4, 1 - 1e-4)
            loss = quality_focal_loss_tensor_target(
                p.reshape(-1, 1), t.reshape(-1, 1), beta=self.beta,
                activated=True, reduction='none').reshape(b, -1)
        pos = (t.reshape(b, -1) > self.pos_thr).sum(1)
        if self.normalizer == 'batch':
            return self.loss_weight * loss.sum() / pos.sum().clamp(min=1)
        return self.loss_weight * (loss.sum(1) / pos.clamp(min=1)).mean()


@MODELS.register_module()
class SoftCenterRegressionLoss(nn.Module):
    """Center-head box maps (B, k, H, W) against the teacher's, SmoothL1
    (beta 1) weighted by the teacher's confidence s (B, 1, H, W) at every
    BEV cell (center-head response distillation).

    * KITTI reference (``Cc-Hy/CMKD:pcdet/models/dense_heads/
      center_head_soft.py``, the defaults): s = sum_c sigmoid(teacher
      heatmap logits); only cells with s > ``pos_thr`` (0.1) count; the
      8 box maps (offset 2, z 1, log dims 3, rot 2) together, averaged over
      the selected elements of each sample, then over the batch. The
      reference hard-codes ``4 * mean(... * s * 8)``: ``loss_weight`` = 32
      reproduces it; it averages over the selected elements of the whole
      batch.
    * CMKD-MV (``Cc-Hy/CMKD-MV:mmdet3d/models/detectors/bevdet.py``):
      ``pos_thr=None`` (every cell, a TODO there), ``loss_weight=50``, each
      regression head separately (``CMKDCenterHead(resp_bbox_per_head=
      True)``). It weights by sigmoid(sum_c logits) instead, kept as
      ``teacher_weight='sigmoid_of_sum'`` for fidelity: a task's confidence
      is then near 1 wherever one class logit is large but also where two
      weak ones add up, and near 0.5 on empty ground for a teacher whose
      logits sum to 0.

    Args:
        beta (float): SmoothL1 beta. Defaults to 1.
        pos_thr (float, optional): Mask threshold on s; None: no mask.
        loss_weight (float): Defaults to 32.
        teacher_weight (str): ``'sum_of_sigmoids'`` (default) or
            ``'sigmoid_of_sum'``.
    """

    def __init__(self, beta: float = 1.0, pos_thr: Optional[float] = 0.1,
                 loss_weight: float = 32.0,
                 teacher_weight: str = 'sum_of_sigmoids') -> None:
        super().__init__()
        if teacher_weight not in ('sum_of_sigmoids', 'sigmoid_of_sum'):
            raise ValueError(
                "SoftCenterRegressionLoss: teacher_weight must be "
                "'sum_of_sigmoids' or 'sigmoid_of_sum', got "
                f'{teacher_weight!r}')
        self.beta, self.pos_thr, self.loss_weight = beta, pos_thr, loss_weight
        self.teacher_weight = teacher_weight

    def teacher_confidence(self, teacher_heatmap_logits: Tensor) -> Tensor:
        """(B, K, H, W) teacher logits -> (B, 1, H, W) weights s."""
        z = teacher_heatmap_logits.detach().float()
        if self.teacher_weight == 'sigmoid_of_sum':
            return z.sum(1, keepdim=True).sigmoid()
        return z.sigmoid().sum(1, keepdim=True)

    def forward(self, student: Tensor, teacher: Tensor,
                teacher_heatmap_logits: Tensor) -> Tensor:
        """Args:
            student, teacher (Tensor): (B, k, H, W) box maps.
            teacher_heatmap_logits (Tensor): (B, K, H, W).

        Returns:
            Tensor: the scalar loss.
        """
        _check_pair(student, teacher, 'box maps')
        s = self.teacher_confidence(teacher_heatmap_logits)
        loss = smooth_l1_loss(student.float(), teacher.detach().float(),
                              beta=self.beta, reduction='none') * s
        b = student.shape[0]
        if self.pos_thr is None:
            return self.loss_weight * loss.mean()
        m = (s > self.pos_thr).float().expand_as(student)
        count = m.reshape(b, -1).sum(1)
        per_sample = (loss * m).reshape(b, -1).sum(1) / count.clamp(min=1)
        return self.loss_weight * per_sample.mean()
