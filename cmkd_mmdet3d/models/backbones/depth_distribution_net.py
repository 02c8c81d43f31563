"""Depth distribution network of the CMKD student: a dilated ResNet at output
stride 8, a DeepLabV3 ASPP head giving D + 1 depth logits, and the
channel-reduced stride-8 image feature.

Reference: the ``DDNDeepLabV3`` of Cc-Hy/CMKD
(``pcdet/models/backbones_3d/vfe/image_vfe_modules/ffn/ddn/ddn_template.py``,
``ddn_deeplabv3.py``), i.e. torchvision's ``deeplabv3_resnet50`` initialised
from the COCO checkpoint, plus the ``CHANNEL_REDUCE`` block of its frustum
feature network (``ffn/depth_ffn.py``); Hong et al., "Cross-Modality
Knowledge Distillation Network for Monocular 3D Object Detection", ECCV
2022.
"""
from typing import Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet3d.registry import MODELS
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils.config_checks import check_num_bins
from ..utils.depth_bins import DepthBins
from ..utils.deeplabv3_converter import (LAST_CONV, check_converted_keys,
                                         convert_deeplabv3_state_dict,
                                         is_deeplabv3_state_dict)
from .dilated_resnet import DilatedResNet  # noqa: F401 (registers it)


class ASPP(nn.Module):
    """DeepLabV3 atrous spatial pyramid pooling: a 1x1 branch, 3x3 branches
    at ``dilations`` and an image-pooling branch, concatenated and projected
    to ``channels`` with dropout (torchvision's ``ASPP``)."""

    def __init__(self, in_channels: int, channels: int = 256,
                 dilations: Sequence[int] = (12, 24, 36),
                 dropout: float = 0.5, norm_cfg: Optional[dict] = None):
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN')
        cm = dict(norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'), bias=False)
        self.branches = nn.ModuleList(
            [ConvModule(in_channels, channels, 1, **cm)] + [
                ConvModule(in_channels, channels, 3, padding=d, dilation=d,
                           **cm) for d in dilations
            ])
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), ConvModule(in_channels, channels, 1,
                                                **cm))
        self.project = nn.Sequential(
            ConvModule(channels * (len(dilations) + 2), channels, 1, **cm),
            nn.Dropout(dropout))

    def _pooled(self, x: Tensor) -> Tensor:
        conv = self.image_pool[1]
        y = conv.conv(self.image_pool[0](x))
        norm = conv.norm
        if self.training and x.shape[0] == 1 and \
                isinstance(norm, nn.modules.batchnorm._BatchNorm):
            # batch statistics of one 1x1 map are undefined (torchvision's
            # ASPP raises here); one image per GPU uses the running ones
            y = F.batch_norm(y, norm.running_mean, norm.running_var,
                             norm.weight, norm.bias, False, 0.0, norm.eps)
        else:
            y = norm(y)
        return conv.activate(y)

    def forward(self, x: Tensor) -> Tensor:
        outs = [b(x) for b in self.branches]
        outs.append(self._pooled(x).expand(-1, -1, *x.shape[2:]))
        return self.project(torch.cat(outs, 1))


@MODELS.register_module()
class DepthDistributionNet(BaseModule):
    """Image -> depth logits (B, D + 1, Hf, Wf) and reduced image features
    (B, C, Hf, Wf), both at the backbone's output stride (8).

    Args:
        backbone (dict): An image backbone returning (stride-8 feature,
            deepest feature). The reference's is ``DilatedResNet`` (mmdet's
            ResNet with torchvision's dilation pattern, this package) with
            ``depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
            out_indices=(2, 3), torchvision_dilation=True`` (torchvision's
            ``replace_stride_with_dilation=[False, True, True]``: the first
            block of layer3 / layer4 keeps dilation 1 / 2). ``mmdet.ResNet``
            with the same arguments dilates every block of a stage.
            Pretrained weights through its ``init_cfg``
            ``dict(type='Pretrained', checkpoint=...)``:

            * a torchvision DeepLabV3 checkpoint (e.g.
              ``https://download.pytorch.org/models/
              deeplabv3_resnet50_coco-cd0a2569.pth``, or a file written by
              ``tools/model_converters/deeplabv3_to_cmkd.py``) initialises
              the backbone, the ASPP and the head's 3x3 conv, as the
              reference does; only the last conv (``depth_head.1``) and the
              channel reduction keep their initialisation (see
              :meth:`init_weights`);
            * any other checkpoint (an ImageNet ResNet such as
              ``https://download.pytorch.org/models/resnet50-0676ba61.pth``)
              goes to the backbone alone, through mmengine.
        num_bins (int, optional): D; the head predicts D + 1 classes, the
            last one "beyond the range". May be left out when
            ``depth_bins`` is given (and must then agree with it).
        feat_in_channels (int): Channels of the stride-8 feature (1024 for
            ResNet-50 layer3).
        deep_in_channels (int): Channels of the deepest feature (2048).
        feat_channels (int): Channels after the 1x1 reduction. Defaults
            to 64.
        aspp_channels (int): Defaults to 256.
        aspp_dilations (Sequence[int]): Defaults to (12, 24, 36).
        dropout (float): Dropout of the ASPP projection. Defaults to 0.5.
        stride (int): Output stride of the backbone, checked at run time.
            Defaults to 8.
        norm_cfg (dict, optional): Norm of the ASPP, head and reduction.
            Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): mmengine init config of the whole
            network.
        depth_bins (DepthBins, optional): The student's shared depth
            discretisation (set by ``CMKDMono3D``); its ``num_bins`` sizes
            the head.
        coord_channels (bool): Append two channels holding each cell's
            image position (column and row, in [-1, 1] of the feature map)
            to the deepest feature before the ASPP, as CoordConv (Liu et
            al., NeurIPS 2018) and CAM-Convs (Facil et al., CVPR 2019) do
            for depth. With a fixed camera the row alone tells the depth of
            the ground at that row, which a fully convolutional network
            otherwise has to infer from padding and context. Not in the
            reference; ``False`` by default and in every config (on the
            synthetic world it did not help beyond the seed spread, see the
            README). Changes the ASPP's input channels, so a DeepLabV3
            checkpoint no longer fits it.
        pretrained (str, optional): A checkpoint of this whole network,
            read in :meth:`init_weights` in place of the backbone's
            ``init_cfg``: a detector checkpoint whose ``img_backbone.*``
            (or ``student.img_backbone.*``) tensors fill it strictly, e.g.
            the depth pre-training run of
            ``cmkd-mono3d_r18-aspp-lid40_depth-pretrain_...``, or a
            DeepLabV3 checkpoint as above.

    The ASPP and head have torchvision's ``DeepLabHead`` structure (1x1
    branch, 3x3 atrous branches, image pooling, 1x1 projection + BN + ReLU +
    Dropout; 3x3 conv + BN + ReLU; 1x1 conv to ``num_bins + 1``), so with
    ``aspp_channels=256`` and three dilations every DeepLabV3 tensor but the
    last conv has a home.
    """

    def __init__(self,
                 backbone: dict,
                 num_bins: Optional[int] = None,
                 feat_in_channels: int = 1024,
                 deep_in_channels: int = 2048,
                 feat_channels: int = 64,
                 aspp_channels: int = 256,
                 aspp_dilations: Sequence[int] = (12, 24, 36),
                 dropout: float = 0.5,
                 stride: int = 8,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 depth_bins: Optional[DepthBins] = None,
                 coord_channels: bool = False,
                 pretrained: Optional[str] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        self.coord_channels = bool(coord_channels)
        # refused before anything is built (D + 1 output classes)
        if depth_bins is not None:
            if num_bins is not None:
                depth_bins.check_matches(
                    check_num_bins(num_bins, 'DepthDistributionNet'),
                    'DepthDistributionNet: num_bins')
            num_bins = depth_bins.num_bins
        self.depth_bins = depth_bins
        self.num_bins = check_num_bins(num_bins, 'DepthDistributionNet')
        norm_cfg = norm_cfg or dict(type='BN')
        self.backbone = MODELS.build(backbone)
        self.stride = stride
        self.aspp = ASPP(deep_in_channels + 2 * self.coord_channels,
                         aspp_channels, aspp_dilations, dropout, norm_cfg)
        self.depth_head = nn.Sequential(
            ConvModule(aspp_channels, aspp_channels, 3, padding=1,
                       bias=False, norm_cfg=norm_cfg),
            nn.Conv2d(aspp_channels, num_bins + 1, 1))
        self.reduce = ConvModule(feat_in_channels, feat_channels, 1,
                                 bias=False, norm_cfg=norm_cfg)

    def _pretrained_checkpoint(self) -> Optional[str]:
        """``pretrained``, else the checkpoint of the backbone's
        ``Pretrained`` init_cfg, if any."""
        if self.pretrained:
            return self.pretrained
        cfg = getattr(self.backbone, 'init_cfg', None)
        if isinstance(cfg, Mapping) and cfg.get('type') == 'Pretrained':
            return cfg.get('checkpoint')
        return None

    def init_weights(self) -> None:
        """mmengine initialisation; a DeepLabV3 checkpoint in the backbone's
        ``init_cfg`` is converted and loaded into backbone + ASPP + head.

        The checkpoint (local path or URL, read with mmengine's
        ``CheckpointLoader``; a torchvision state dict or one written by
        ``tools/model_converters/deeplabv3_to_cmkd.py``) is loaded after the
        default initialisation of every module, instead of the backbone's
        ``Pretrained`` step, as ``DDNTemplate.get_model`` of
        Cc-Hy/CMKD:pcdet/models/backbones_3d/vfe/image_vfe_modules/ffn/ddn/
        ddn_template.py does. Any other checkpoint is left to mmengine
        (backbone only).

        Raises:
            ValueError: If the DeepLabV3 checkpoint does not fill the
                network exactly up to the last conv (keys and file named).
        """
        checkpoint = self._pretrained_checkpoint()
        state = None
        if checkpoint is not None:
            from mmengine.runner.checkpoint import CheckpointLoader
            ckpt = CheckpointLoader.load_checkpoint(checkpoint,
                                                    map_location='cpu')
            state = ckpt
            for wrapper in ('state_dict', 'model'):
                if isinstance(state, Mapping) and wrapper in state and \
                        isinstance(state[wrapper], Mapping):
                    state = state[wrapper]
            own = self.state_from_detector(state)
            if own is not None:
                self._load_pretrained_depth_net(own, checkpoint)
                return
            if not self._is_depth_net_state(state):
                state = None                   # e.g. an ImageNet ResNet
        if state is None:
            super().init_weights()
            return
        saved = self.backbone.init_cfg
        self.backbone.init_cfg = None          # not the ResNet alone
        try:
            super().init_weights()
        finally:
            self.backbone.init_cfg = saved
        dropped = self.load_deeplabv3_state_dict(state, source=checkpoint)
        print_log(
            f'DepthDistributionNet: loaded {checkpoint} (DeepLabV3); '
            f'dropped {len(dropped)} tensors ({_summary(dropped)})',
            logger='current')

    #: Where a CMKDMono3D / CMKD checkpoint keeps this network's tensors.
    detector_prefixes = ('img_backbone.', 'student.img_backbone.')

    @classmethod
    def state_from_detector(cls, state: Mapping) -> Optional[dict]:
        """This network's tensors from a detector checkpoint (e.g. the depth
        pre-training run's ``epoch_N.pth``, keys ``img_backbone.*``), or
        None if ``state`` is not one."""
        if not isinstance(state, Mapping):
            return None
        for prefix in cls.detector_prefixes:
            sub = {k[len(prefix):]: v for k, v in state.items()
                   if k.startswith(prefix)}
            if sub:
                return sub
        return None

    def _load_pretrained_depth_net(self, state: Mapping,
                                   source: str) -> None:
        """Default initialisation, then every tensor of this network
        (backbone, ASPP, depth head, reduction) strictly from ``state``.

        Raises:
            ValueError: naming ``source`` and the keys or shapes that do not
                fit (e.g. another ``num_bins`` or backbone depth).
        """
        saved = self.backbone.init_cfg
        self.backbone.init_cfg = None
        try:
            super().init_weights()
        finally:
            self.backbone.init_cfg = saved
        own = self.state_dict()
        missing = sorted(k for k in own if k not in state)
        unexpected = sorted(k for k in state if k not in own)
        bad = [f'{k}: {tuple(v.shape)} (file) vs {tuple(own[k].shape)}'
               for k, v in state.items()
               if k in own and tuple(v.shape) != tuple(own[k].shape)]
        if missing or unexpected or bad:
            raise ValueError(
                f'{source} does not fit the depth network: missing '
                f'{_summary(missing)}, unexpected {_summary(unexpected)}, '
                f'shapes {bad}')
        self.load_state_dict(state, strict=True)
        print_log(f'DepthDistributionNet: loaded {len(state)} tensors from '
                  f'{source} (a pre-trained depth network)', logger='current')

    @staticmethod
    def _is_depth_net_state(state: Mapping) -> bool:
        """torchvision DeepLabV3 names, or ours (already converted)."""
        if not isinstance(state, Mapping):
            return False
        keys = list(state)
        return is_deeplabv3_state_dict(state) or (
            any(k.startswith('aspp.') for k in keys)
            and any(k.startswith('backbone.') for k in keys))

    def load_deeplabv3_state_dict(self, state_dict: Mapping,
                                  source: str = '<state dict>') -> List[str]:
        """Load a DeepLabV3 state dict into backbone, ASPP and head.

        Args:
            state_dict (Mapping): torchvision ``deeplabv3_resnet*`` names
                (converted with :func:`convert_deeplabv3_state_dict`; the
                last conv is kept only if it has ``num_bins + 1`` classes)
                or ours (already converted).
            source (str): Name of the checkpoint, for error messages.

        Returns:
            list[str]: The torchvision keys that were dropped
            (``aux_classifier.*``, ``classifier.4.*``).

        Raises:
            ValueError: Unless the keys of backbone + ``aspp`` +
                ``depth_head`` that stay unloaded are exactly the last conv
                (``depth_head.1.*``) when it was dropped (none when kept),
                nothing is unexpected and every shape matches; the message
                names the file and the keys. ``reduce`` (the reference's
                ``CHANNEL_REDUCE``, outside its DeepLabV3) is never loaded.
        """
        if is_deeplabv3_state_dict(state_dict):
            converted, dropped = convert_deeplabv3_state_dict(
                state_dict, self.num_bins + 1, source)
        else:
            converted, dropped = dict(state_dict), []
        own = {k: v for k, v in self.state_dict().items()
               if not k.startswith('reduce.')}
        check_converted_keys(
            missing=[k for k in own if k not in converted],
            unexpected=[k for k in converted if k not in own],
            allowed_missing=[k for k in LAST_CONV if k not in converted],
            source=source)
        bad = [f'{k}: {tuple(v.shape)} (file) vs {tuple(own[k].shape)}'
               for k, v in converted.items()
               if k in own and tuple(v.shape) != tuple(own[k].shape)]
        if bad:
            raise ValueError(f'{source} does not fit the depth network '
                             f'(shapes differ): {bad}')
        self.load_state_dict(converted, strict=False)
        return dropped

    def forward(self, img: Tensor) -> Dict[str, Tensor]:
        """(B, 3, H, W) normalised image -> dict(depth_logits
        (B, D + 1, Hf, Wf), feats (B, C, Hf, Wf), context (B, A, Hf, Wf):
        the ASPP output the depth head reads, A = ``aspp_channels``)."""
        h, w = img.shape[-2:]
        if h < self.stride or w < self.stride:
            raise ValueError(f'image {h}x{w} is smaller than the feature '
                             f'stride {self.stride}')
        feat, deep = self.backbone(img)[-2:]
        expected = (-(-h // self.stride), -(-w // self.stride))
        if tuple(feat.shape[-2:]) != expected:
            raise ValueError(
                f'backbone feature {tuple(feat.shape[-2:])} is not the image '
                f'{h}x{w} at stride {self.stride} {expected}: check the '
                'backbone strides / dilations / out_indices')
        if self.coord_channels:
            deep = torch.cat([deep, coord_map(deep)], 1)
        context = self.aspp(deep)
        logits = self.depth_head(context)
        if logits.shape[-2:] != feat.shape[-2:]:
            logits = F.interpolate(logits, feat.shape[-2:], mode='bilinear',
                                   align_corners=False)
            context = F.interpolate(context, feat.shape[-2:],
                                    mode='bilinear', align_corners=False)
        return dict(depth_logits=logits, feats=self.reduce(feat),
                    context=context)


def coord_map(x: Tensor) -> Tensor:
    """Image position of every cell of a feature map.

    Args:
        x (Tensor): A feature map (B, C, H, W); only its shape, dtype and
            device are used.

    Returns:
        Tensor: (B, 2, H, W): channel 0 the column, channel 1 the row, each
        linear from -1 (the first cell) to 1 (the last; 0 for a map one
        cell wide or high). Made of ``arange`` and arithmetic, so it exports
        to ONNX.
    """
    b, _, h, w = x.shape
    cols = torch.arange(w, dtype=x.dtype, device=x.device)
    rows = torch.arange(h, dtype=x.dtype, device=x.device)
    cols = cols * (2.0 / max(w - 1, 1)) - (1.0 if w > 1 else 0.0)
    rows = rows * (2.0 / max(h - 1, 1)) - (1.0 if h > 1 else 0.0)
    grid = torch.stack([cols.view(1, w).expand(h, w),
                        rows.view(h, 1).expand(h, w)])
    return grid.unsqueeze(0).expand(b, 2, h, w)


def _summary(keys: List[str]) -> str:
    """'aux_classifier.* (6), classifier.4.* (2)'."""
    groups: Dict[str, int] = {}
    for k in keys:
        head = 'aux_classifier.*' if k.startswith('aux_classifier.') \
            else k.rsplit('.', 1)[0] + '.*'
        groups[head] = groups.get(head, 0) + 1
    return ', '.join(f'{k} ({n})' for k, n in groups.items()) or 'none'
