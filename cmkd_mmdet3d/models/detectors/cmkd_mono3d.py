"""The CMKD camera student (CaDDN-style), usable on its own."""
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmdet3d.models.detectors import Base3DDetector
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample
from torch import Tensor

from ..utils.depth_bins import bin_depths
from .guards import CheckpointKeysGuard, NonFiniteLossGuard


def _matrix(value, rows: Tuple[int, ...], key: str, sample: Det3DDataSample,
            device) -> Tensor:
    m = torch.as_tensor(np.asarray(value, dtype=np.float32), device=device)
    if m.dim() != 2 or m.shape[0] not in rows or m.shape[1] != 4:
        raise ValueError(
            f"{key} of {sample.metainfo.get('img_path', 'a sample')} must be "
            f"{' or '.join(f'{r}x4' for r in rows)}, got {tuple(m.shape)}")
    if not torch.isfinite(m).all():
        raise ValueError(f"{key} of {sample.metainfo.get('img_path')} has "
                         'non-finite entries')
    return m


@MODELS.register_module()
class CMKDMono3D(NonFiniteLossGuard, CheckpointKeysGuard, Base3DDetector):
    """Monocular BEV detector: image -> depth distribution and features
    (``img_backbone``) -> voxel grid -> BEV map (``lift_neck``, the map that
    CMKD distils) -> ``backbone`` / ``neck`` / ``bbox_head`` (mmdet3d's
    SECOND / SECONDFPN / Anchor3DHead or CenterHead, the same module names
    as the LiDAR teachers' so their weights load by name).

    Boxes are predicted in LiDAR coordinates from images plus ``lidar2cam``
    / ``cam2img`` metainfo; no LiDAR is needed at inference. Training uses
    the ground-truth boxes and, with ``loss_depth``, the depth targets packed
    as ``data_sample.gt_depth``. ``backbone``, ``neck`` and ``bbox_head``
    may be left out (the image branch alone, CMKD's stage 1).

    Args:
        img_backbone (dict): e.g. ``DepthDistributionNet``.
        lift_neck (dict): ``DepthLiftNeck``.
        backbone, neck, bbox_head (dict, optional): BEV detector parts.
        loss_depth (dict, optional): e.g. ``DepthFocalLoss``.
        nonfinite_loss (str | dict, optional): What a NaN / inf loss does:
            ``'raise'`` (default: training stops, naming the loss keys, the
            iteration and the frames) or ``dict(action='skip',
            max_consecutive=5)`` (the step is skipped without an optimizer
            update; more consecutive skips stop training). See
            :class:`~cmkd_mmdet3d.models.detectors.guards.NonFiniteLossGuard`.

    Loading (``load_from``, ``tools/test.py CONFIG CKPT``): an unextracted
    CMKD checkpoint (``student.*`` / ``teacher.*``) loads its student with a
    log line; a checkpoint matching no key is refused, naming the file
    (:class:`~cmkd_mmdet3d.models.detectors.guards.CheckpointKeysGuard`).
    """

    strip_student_prefix = True

    def __init__(self,
                 img_backbone: dict,
                 lift_neck: dict,
                 backbone: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 bbox_head: Optional[dict] = None,
                 loss_depth: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 nonfinite_loss: Union[None, str, dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self._init_nonfinite_guard(nonfinite_loss)
        self.img_backbone = MODELS.build(img_backbone)
        self.lift_neck = MODELS.build(lift_neck)
        if self.img_backbone.num_bins != self.lift_neck.num_bins:
            raise ValueError(
                f'img_backbone predicts {self.img_backbone.num_bins} bins, '
                f'lift_neck expects {self.lift_neck.num_bins}')
        self.backbone = MODELS.build(backbone) if backbone else None
        self.neck = MODELS.build(neck) if neck else None
        self._check_bev_input_channels()
        if bbox_head is not None:
            bbox_head = dict(bbox_head, train_cfg=train_cfg,
                             test_cfg=test_cfg)
            self.bbox_head = MODELS.build(bbox_head)
        else:
            self.bbox_head = None
        self.loss_depth = MODELS.build(loss_depth) if loss_depth else None
        self.train_cfg, self.test_cfg = train_cfg, test_cfg

    def _check_bev_input_channels(self) -> None:
        """The BEV backbone must take the lift neck's BEV map (C, Y, X):
        ``backbone.in_channels`` == ``lift_neck.out_channels``."""
        if self.backbone is None:
            return
        first = next((m for m in self.backbone.modules()
                      if isinstance(m, torch.nn.Conv2d)), None)
        c_in = first.in_channels if first is not None else getattr(
            self.backbone, 'in_channels', None)
        c_bev = self.lift_neck.out_channels
        if c_in is not None and c_in != c_bev:
            raise ValueError(
                f'backbone.in_channels ({c_in}) differs from '
                f'lift_neck.out_channels ({c_bev}): the BEV backbone takes '
                f'the lifted BEV map {tuple(self.lift_neck.bev_shape)} '
                '(C, Y, X)')

    # ------------------------------------------------------------------
    def camera_inputs(self, batch_inputs_dict: dict,
                      batch_data_samples: List[Det3DDataSample]):
        """Images (B, 3, H, W), lidar2cam (B, 4, 4), cam2img (B, 3|4, 4)
        and the padded (H, W), with the shapes checked."""
        if 'imgs' not in batch_inputs_dict:
            raise KeyError('CMKDMono3D needs images: pack "img" in the '
                           'pipeline (Pack3DDetInputs / PackCMKDInputs)')
        img = batch_inputs_dict['imgs']
        device = img.device
        l2c = torch.stack([
            _matrix(s.metainfo['lidar2cam'], (4, ), 'lidar2cam', s, device)
            for s in batch_data_samples
        ])
        c2i = [
            _matrix(s.metainfo['cam2img'], (3, 4), 'cam2img', s, device)[:3]
            for s in batch_data_samples
        ]
        return img, l2c, torch.stack(c2i), tuple(img.shape[-2:])

    def extract_bev(self, batch_inputs_dict: dict,
                    batch_data_samples: List[Det3DDataSample]
                    ) -> Dict[str, Tensor]:
        """dict(bev (B, C, Y, X) after SCNet, depth_logits
        (B, D + 1, Hf, Wf))."""
        img, l2c, c2i, img_shape = self.camera_inputs(batch_inputs_dict,
                                                      batch_data_samples)
        out = self.img_backbone(img)
        bev = self.lift_neck(out['depth_logits'], out['feats'], l2c, c2i,
                             img_shape)
        return dict(bev=bev, depth_logits=out['depth_logits'])

    def bev_head_inputs(self, bev: Tensor) -> Union[Tensor, Tuple[Tensor]]:
        """BEV map -> the head's input features (BEV backbone + neck)."""
        x = self.backbone(bev)
        return self.neck(x) if self.neck is not None else x

    def extract_feat(self, batch_inputs_dict: dict,
                     batch_data_samples: List[Det3DDataSample]):
        return self.bev_head_inputs(
            self.extract_bev(batch_inputs_dict, batch_data_samples)['bev'])

    def depth_targets(self, batch_data_samples: List[Det3DDataSample],
                      feat_shape: Tuple[int, int], device) -> Tensor:
        """(B, Hf, Wf) depth classes; missing depth and the batch padding
        are class D ("beyond"), as in the reference."""
        hf, wf = feat_shape
        depth = torch.zeros(len(batch_data_samples), hf, wf, device=device)
        for i, s in enumerate(batch_data_samples):
            if 'gt_depth' not in s:
                raise KeyError(
                    f"no gt_depth for {s.metainfo.get('img_path')}: add "
                    'MakeDepthTarget and PackCMKDInputs to the pipeline or '
                    'drop loss_depth')
            d = s.gt_depth
            where = s.metainfo.get('img_path')
            made = s.metainfo.get('depth_stride')
            net = getattr(self.img_backbone, 'stride', None)
            if net is not None and made is not None and made != net:
                raise ValueError(
                    f'depth target of {where} was made at stride {made} '
                    f'{tuple(d.shape)}, the depth network predicts at stride '
                    f'{net} (feature map {tuple(feat_shape)}): set '
                    f'MakeDepthTarget(stride={net})')
            if d.shape[0] > hf or d.shape[1] > wf:
                raise ValueError(f'depth target {tuple(d.shape)} is larger '
                                 f'than the feature map {feat_shape}')
            depth[i, :d.shape[0], :d.shape[1]] = d
        lift = self.lift_neck
        return bin_depths(depth, lift.mode, lift.depth_min, lift.depth_max,
                          lift.num_bins, target=True)

    # ------------------------------------------------------------------
    def loss(self, batch_inputs_dict: dict,
             batch_data_samples: List[Det3DDataSample]) -> dict:
        out = self.extract_bev(batch_inputs_dict, batch_data_samples)
        losses = {}
        if self.loss_depth is not None:
            logits = out['depth_logits']
            target = self.depth_targets(batch_data_samples,
                                        logits.shape[-2:], logits.device)
            losses['loss_depth'] = self.loss_depth(logits, target)
        if self.bbox_head is not None:
            x = self.bev_head_inputs(out['bev'])
            losses.update(self.bbox_head.loss(x, batch_data_samples))
        if not losses:
            raise RuntimeError('CMKDMono3D has neither a bbox_head nor a '
                               'loss_depth to train on its own; the image '
                               'branch alone trains inside CMKD')
        return losses

    def predict(self, batch_inputs_dict: dict,
                batch_data_samples: List[Det3DDataSample]
                ) -> List[Det3DDataSample]:
        if self.bbox_head is None:
            raise RuntimeError('CMKDMono3D without bbox_head cannot predict '
                               'boxes')
        x = self.extract_feat(batch_inputs_dict, batch_data_samples)
        results = self.bbox_head.predict(x, batch_data_samples)
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self, batch_inputs_dict: dict,
                 batch_data_samples: Optional[List[Det3DDataSample]] = None):
        out = self.extract_bev(batch_inputs_dict, batch_data_samples)
        if self.bbox_head is None:
            return out['bev']
        return self.bbox_head.forward(self.bev_head_inputs(out['bev']))
