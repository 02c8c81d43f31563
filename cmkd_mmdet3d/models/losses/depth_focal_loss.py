"""Depth distribution loss of the CMKD student (spec 4.2)."""
from typing import Optional

import torch
from mmdet3d.registry import MODELS
from torch import Tensor, nn


def depth_focal_loss(logits: Tensor, target: Tensor, alpha: float = 0.25,
                     gamma: float = 2.0) -> Tensor:
    """Per-pixel softmax focal loss, (B, K, H, W) logits and (B, H, W) class
    targets -> (B, H, W) ``-alpha (1 - p_t)^gamma log p_t`` (kornia's
    ``FocalLoss`` without class balancing, as the reference)."""
    if logits.dim() != 4 or target.shape != (logits.shape[0],
                                             *logits.shape[2:]):
        raise ValueError(f'logits must be (B, K, H, W) and target (B, H, W),'
                         f' got {tuple(logits.shape)} and '
                         f'{tuple(target.shape)}')
    logp = torch.log_softmax(logits.float(), 1)
    logp_t = logp.gather(1, target.long().unsqueeze(1)).squeeze(1)
    return -alpha * (1 - logp_t.exp()).pow(gamma) * logp_t


@MODELS.register_module()
class DepthFocalLoss(nn.Module):
    """Mean over pixels and samples of :func:`depth_focal_loss`, times
    ``loss_weight`` (0.5 for the SECOND / CenterPoint configs, 1.0 for
    PointPillars). Pixels without depth carry the "beyond" class, as in the
    reference (which therefore pushes sparse-depth pixels towards "far"); an
    optional ``weight`` (B, H, W) can mask them instead."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.alpha, self.gamma, self.loss_weight = alpha, gamma, loss_weight

    def forward(self, logits: Tensor, target: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        loss = depth_focal_loss(logits, target, self.alpha, self.gamma)
        if weight is not None:
            loss = loss * weight
        return self.loss_weight * loss.mean()
