"""Geometric object depth for the camera student's lift.

A dense form of the depth-from-2D-height relation of monocular detectors
(MonoFlex, Zhang et al., CVPR 2021; GUPNet, Lu et al., ICCV 2021): an
object of size ``s`` (metres) whose image box is ``h`` pixels high, seen
with a focal length ``f_y`` (pixels), lies at ``z = f_y * s / h``. Every
feature cell predicts whether it lies on an object, the height of that
object's image box and its size; inside objects the lift then takes a sharp
distribution around the geometric depth instead of the per-cell depth bins.

Not in CMKD or CaDDN, whose lift takes the per-cell bins everywhere; an
option of :class:`~cmkd_mmdet3d.models.detectors.CMKDMono3D`
(``object_depth``), off in the reference configs.

The numerics are the pure functions below; :class:`ObjectDepthHead` wraps
them.
"""
from typing import Dict, Optional

import math
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet3d.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils.depth_bins import DepthBins


def geometric_depth(log_height: Tensor, log_size: Tensor, focal: Tensor,
                    stride: float) -> Tensor:
    """``z = f_y * s / h`` per cell.

    Args:
        log_height (Tensor): (M, Hf, Wf) ``log(h / stride)``, ``h`` the image
            box's height in pixels.
        log_size (Tensor): (M, Hf, Wf) ``log(s)``, ``s = z * h / f_y`` in
            metres (about the object's height).
        focal (Tensor): (M,) ``f_y`` of each image, pixels.
        stride (float): pixels per feature cell (rows).

    Returns:
        Tensor: (M, Hf, Wf) depth along the optical axis, metres.
    """
    return focal.view(-1, 1, 1) * torch.exp(log_size - log_height) / stride


def gaussian_depth_bins(depth: Tensor, bins: DepthBins,
                        sigma: float = 0.5) -> Tensor:
    """A sharp distribution over the depth bins around a metric depth.

    Args:
        depth (Tensor): (M, Hf, Wf) metres; clamped to the bins' range.
        bins (DepthBins): the student's discretisation (D bins).
        sigma (float): standard deviation in bins (bin index units).

    Returns:
        Tensor: (M, D + 1, Hf, Wf) probabilities: a Gaussian of the
        continuous bin index of ``depth`` (:meth:`DepthBins.index`) over the
        bin centres ``i + 0.5``, normalised over the D bins; the last class
        ("beyond") is 0. Differentiable in ``depth``.
    """
    depth = depth.clamp(bins.depth_min, bins.depth_max)
    t = bins.index(depth).unsqueeze(1)                      # (M, 1, Hf, Wf)
    centres = torch.arange(bins.num_bins, dtype=t.dtype,
                           device=t.device).view(1, -1, 1, 1) + 0.5
    probs = torch.softmax(-(centres - t) ** 2 / (2 * sigma ** 2), dim=1)
    return F.pad(probs, (0, 0, 0, 0, 0, 1))


def mix_depth_logits(depth_logits: Tensor, fg_prob: Tensor,
                     object_probs: Tensor, eps: float = 1e-12) -> Tensor:
    """Logits of ``fg * object_probs + (1 - fg) * softmax(depth_logits)``.

    Args:
        depth_logits (Tensor): (M, D + 1, Hf, Wf) per-cell bin logits.
        fg_prob (Tensor): (M, Hf, Wf) probability that a cell is on an
            object.
        object_probs (Tensor): (M, D + 1, Hf, Wf) the objects' distribution
            (:func:`gaussian_depth_bins`).
        eps (float): floor of the mixture before the log.

    Returns:
        Tensor: (M, D + 1, Hf, Wf) logits whose softmax is the mixture (it
        sums to 1, so the lift's softmax gives it back).
    """
    fg = fg_prob.unsqueeze(1)
    mix = fg * object_probs + (1 - fg) * depth_logits.softmax(1)
    return mix.clamp_min(eps).log()


def object_depth_targets(height: Tensor, depth: Tensor, focal: Tensor,
                         stride: float) -> Dict[str, Tensor]:
    """Regression targets of :func:`geometric_depth` from the boxes' maps.

    Args:
        height (Tensor): (M, Hf, Wf) image-box height, pixels (0 off
            objects), e.g. from
            :func:`~cmkd_mmdet3d.structures.box_instance_maps`.
        depth (Tensor): (M, Hf, Wf) the box centre's depth, metres.
        focal (Tensor): (M,) ``f_y``, pixels.
        stride (float): pixels per feature cell (rows).

    Returns:
        dict: ``valid`` (M, Hf, Wf) bool (height and depth > 0),
        ``log_height`` and ``log_size`` (M, Hf, Wf), 0 where not valid;
        ``geometric_depth(log_height, log_size, focal, stride) == depth``
        where valid.
    """
    valid = (height > 0) & (depth > 0)
    h = torch.where(valid, height, torch.ones_like(height))
    z = torch.where(valid, depth, torch.ones_like(depth))
    log_height = torch.where(valid, torch.log(h / stride),
                             torch.zeros_like(h))
    log_size = torch.where(valid, torch.log(z * h / focal.view(-1, 1, 1)),
                           torch.zeros_like(h))
    return dict(valid=valid, log_height=log_height, log_size=log_size)


@MODELS.register_module()
class ObjectDepthHead(BaseModule):
    """Per feature cell: object logit, ``log(h / stride)`` and ``log(s)``
    (:func:`geometric_depth`), from the depth network's context features
    (the ASPP output).

    Args:
        in_channels (int): channels of the context features.
        channels (int): hidden channels. Defaults to 64.
        sigma (float): width of the objects' bin distribution, in bins
            (:func:`gaussian_depth_bins`). Defaults to 0.5.
        size_prior (float): initial ``s``, metres. Defaults to 1.5.
        height_prior (float): initial image-box height, cells. Defaults
            to 3.
        fg_prior (float): initial object probability. Defaults to 0.1.
        loss_weight (float): weight of each of the three losses
            (:meth:`loss`). Defaults to 1.
        norm_cfg (dict, optional): Defaults to ``dict(type='BN')``.
    """

    def __init__(self, in_channels: int, channels: int = 64,
                 sigma: float = 0.5, size_prior: float = 1.5,
                 height_prior: float = 3.0, fg_prior: float = 0.1,
                 loss_weight: float = 1.0, norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for key, value in dict(sigma=sigma, size_prior=size_prior,
                               height_prior=height_prior).items():
            if not value > 0:
                raise ValueError(f'ObjectDepthHead: {key} must be > 0, '
                                 f'got {value!r}')
        if not 0 < fg_prior < 1:
            raise ValueError(f'ObjectDepthHead: fg_prior must be in (0, 1), '
                             f'got {fg_prior!r}')
        self.sigma, self.loss_weight = float(sigma), float(loss_weight)
        self.priors = (math.log(fg_prior / (1 - fg_prior)),
                       math.log(height_prior), math.log(size_prior))
        self.conv = ConvModule(in_channels, channels, 3, padding=1,
                               bias=False,
                               norm_cfg=norm_cfg or dict(type='BN'))
        self.out = nn.Conv2d(channels, 3, 1)

    def init_weights(self) -> None:
        """mmengine's initialisation, then the output at the priors."""
        super().init_weights()
        nn.init.normal_(self.out.weight, std=1e-3)
        with torch.no_grad():
            self.out.bias.copy_(torch.tensor(self.priors))

    def forward(self, context: Tensor) -> Dict[str, Tensor]:
        """Args:
            context (Tensor): (M, C, Hf, Wf) features.

        Returns:
            dict: ``fg_logit``, ``log_height``, ``log_size``, each
            (M, Hf, Wf).
        """
        fg, log_h, log_s = self.out(self.conv(context)).unbind(1)
        return dict(fg_logit=fg, log_height=log_h, log_size=log_s)

    def lift_logits(self, depth_logits: Tensor, outs: Dict[str, Tensor],
                    focal: Tensor, stride: float, bins: DepthBins) -> Tensor:
        """The lift's logits: the per-cell bins mixed with the objects'
        geometric depth by the object probability
        (:func:`mix_depth_logits`).

        Args:
            depth_logits (Tensor): (M, D + 1, Hf, Wf).
            outs (dict): :meth:`forward`'s output.
            focal (Tensor): (M,) ``f_y``, pixels.
            stride (float): pixels per feature cell (rows).
            bins (DepthBins): the student's discretisation.

        Returns:
            Tensor: (M, D + 1, Hf, Wf) logits.
        """
        depth = geometric_depth(outs['log_height'], outs['log_size'], focal,
                                stride)
        return mix_depth_logits(depth_logits, outs['fg_logit'].sigmoid(),
                                gaussian_depth_bins(depth, bins, self.sigma))

    def loss(self, outs: Dict[str, Tensor], mask: Tensor, height: Tensor,
             depth: Tensor, focal: Tensor, stride: float) -> Dict[str, Tensor]:
        """Object BCE on every cell; L1 of ``log(h / stride)`` and
        ``log(s)`` on the object cells.

        Args:
            outs (dict): :meth:`forward`'s output, (M, Hf, Wf) each.
            mask, height, depth (Tensor): (M, Hf, Wf) the boxes' maps
                (:func:`~cmkd_mmdet3d.structures.box_instance_maps`).
            focal (Tensor): (M,) ``f_y``, pixels.
            stride (float): pixels per feature cell (rows).

        Returns:
            dict[str, Tensor]: ``loss_obj_fg``, ``loss_obj_height``,
            ``loss_obj_size`` (scalars; the last two 0 without object
            cells).
        """
        t = object_depth_targets(height, depth, focal, stride)
        valid = t['valid'] & mask
        n = valid.sum().clamp_min(1)
        w = self.loss_weight
        return dict(
            loss_obj_fg=w * F.binary_cross_entropy_with_logits(
                outs['fg_logit'], mask.to(outs['fg_logit'].dtype)),
            loss_obj_height=w * ((outs['log_height'] - t['log_height']).abs()
                                 * valid).sum() / n,
            loss_obj_size=w * ((outs['log_size'] - t['log_size']).abs()
                               * valid).sum() / n)
