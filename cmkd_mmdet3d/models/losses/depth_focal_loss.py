"""Depth distribution loss of the CMKD student (CaDDN, Reading et al.
CVPR 2021, Sec. 3.4; ``Cc-Hy/CMKD:pcdet/models/backbones_3d/vfe/
image_vfe_modules/ffn/ddn_loss/ddn_loss.py``)."""
from typing import Optional

import torch
from mmdet3d.registry import MODELS
from torch import Tensor, nn


def depth_focal_loss(logits: Tensor, target: Tensor, alpha: float = 0.25,
                     gamma: float = 2.0, one_hot_eps: float = 0.0) -> Tensor:
    """Per-pixel softmax focal loss (kornia's ``FocalLoss`` without class
    balancing, as the reference's ``DDNLoss``).

    With ``q_k = 1[k == t] + one_hot_eps`` (kornia's ``one_hot`` adds its
    ``eps`` to every class), the loss of a pixel is
    ``sum_k q_k * (-alpha (1 - p_k)^gamma log p_k)``, p = softmax(logits);
    ``one_hot_eps=0`` is the plain focal loss
    ``-alpha (1 - p_t)^gamma log p_t``, and the difference is exactly
    ``one_hot_eps * sum_k -alpha (1 - p_k)^gamma log p_k``.

    Args:
        logits (Tensor): (B, K, H, W) depth-bin logits.
        target (Tensor): (B, H, W) integer bin indices in [0, K).
        alpha (float): focal alpha. Defaults to 0.25.
        gamma (float): focal gamma. Defaults to 2.0.
        one_hot_eps (float): value added to every entry of the one-hot
            target. Defaults to 0.

    Returns:
        Tensor: (B, H, W) loss per pixel (float32, float64 kept).
    """
    if logits.dim() != 4 or target.shape != (logits.shape[0],
                                             *logits.shape[2:]):
        raise ValueError(f'logits must be (B, K, H, W) and target (B, H, W),'
                         f' got {tuple(logits.shape)} and '
                         f'{tuple(target.shape)}')
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    logp = torch.log_softmax(logits, 1)
    logp_t = logp.gather(1, target.long().unsqueeze(1)).squeeze(1)
    loss = -alpha * (1 - logp_t.exp()).pow(gamma) * logp_t
    if one_hot_eps:
        focal = -alpha * (1 - logp.exp()).pow(gamma) * logp
        loss = loss + one_hot_eps * focal.sum(1)
    return loss


@MODELS.register_module()
class DepthFocalLoss(nn.Module):
    """Mean over pixels and samples of :func:`depth_focal_loss`, times
    ``loss_weight`` (0.5 for the SECOND / CenterPoint configs, 1.0 for
    PointPillars). Pixels without depth carry the "beyond" class, as in the
    reference (which therefore pushes sparse-depth pixels towards "far"); an
    optional ``weight`` (B, H, W) can mask them instead.

    Args:
        alpha (float): focal alpha. Defaults to 0.25.
        gamma (float): focal gamma. Defaults to 2.0.
        loss_weight (float): multiplier of the mean. Defaults to 1.0.
        one_hot_eps (float): kornia's ``one_hot`` eps, added to all K entries
            of the one-hot target. The reference (``DDNLoss`` through
            ``kornia.losses.FocalLoss``, CaDDN's code reused by
            ``Cc-Hy/CMKD``) has 1e-6; set ``one_hot_eps=1e-6`` to reproduce
            it. Default 0: the eps is a numerical artefact of kornia, not
            part of the method (CaDDN / CMKD describe a focal loss on the
            target bin), it changes the loss value by ~1e-4 relative (121
            bins), far below run-to-run noise, and without it the loss is an
            exact focal loss (0 at a perfect prediction; with it a
            confident pixel still pays eps * alpha * sum_k |log p_k|, a
            faint label smoothing that keeps the logits from saturating).
        fg_weight (float): weight of the pixels inside the image boxes of
            the objects. Defaults to 1.0.
        bg_weight (float): weight of the other pixels. Defaults to 1.0.
            CaDDN's balancer (``TRAILab/CaDDN:pcdet/models/backbones_3d/
            ffe/ddn_loss/balancer.py``) has ``fg_weight=13, bg_weight=1``;
            the CMKD reference sets neither, so every pixel weighs 1 (the
            default here). With unequal weights the student passes a
            foreground mask (:func:`cmkd_mmdet3d.structures.
            box_foreground_mask`) and the loss is
            ``mean(w * loss)``, ``w = fg_weight`` on the mask and
            ``bg_weight`` off it, which is CaDDN's
            ``(sum_fg + sum_bg) / num_pixels``.
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 loss_weight: float = 1.0, one_hot_eps: float = 0.0,
                 fg_weight: float = 1.0, bg_weight: float = 1.0) -> None:
        super().__init__()
        self.alpha, self.gamma, self.loss_weight = alpha, gamma, loss_weight
        self.one_hot_eps = one_hot_eps
        self.fg_weight, self.bg_weight = float(fg_weight), float(bg_weight)

    @property
    def needs_foreground(self) -> bool:
        """Whether :meth:`forward` needs ``fg_mask`` (unequal weights)."""
        return self.fg_weight != self.bg_weight

    def forward(self, logits: Tensor, target: Tensor,
                weight: Optional[Tensor] = None,
                fg_mask: Optional[Tensor] = None) -> Tensor:
        """Weighted mean of the per-pixel focal loss.

        Args:
            logits (Tensor): (B, K, H, W) depth-bin logits.
            target (Tensor): (B, H, W) bin indices.
            weight (Tensor, optional): (B, H, W) pixel weights, multiplied
                in.
            fg_mask (Tensor, optional): (B, H, W) bool foreground pixels;
                required when :attr:`needs_foreground`.

        Returns:
            Tensor: scalar loss, times ``loss_weight``.
        """
        loss = depth_focal_loss(logits, target, self.alpha, self.gamma,
                                self.one_hot_eps)
        if self.needs_foreground:
            if fg_mask is None or fg_mask.shape != loss.shape:
                raise ValueError(
                    f'DepthFocalLoss(fg_weight={self.fg_weight}, bg_weight='
                    f'{self.bg_weight}) needs a foreground mask of shape '
                    f'{tuple(loss.shape)}, got '
                    f'{None if fg_mask is None else tuple(fg_mask.shape)}')
            loss = loss * torch.where(fg_mask.bool(), self.fg_weight,
                                      self.bg_weight)
        elif self.bg_weight != 1.0:
            loss = loss * self.bg_weight
        if weight is not None:
            loss = loss * weight
        return self.loss_weight * loss.mean()
