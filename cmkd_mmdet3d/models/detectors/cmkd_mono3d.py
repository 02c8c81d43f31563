"""The CMKD camera student (CaDDN-style), usable on its own."""
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
from mmdet3d.models.dense_heads import CenterHead
from mmdet3d.models.detectors import Base3DDetector
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample
from mmengine.structures import InstanceData
from torch import Tensor, nn

from ...structures import (box_foreground_mask, box_instance_maps,
                           compose_lidar2img)
from ..utils.depth_bins import (DEPTH_BIN_KEYS, DepthBins,
                                one_hot_depth_logits)
from .guards import CheckpointKeysGuard, NonFiniteLossGuard

#: What the lift takes as its depth distribution (``depth_source``).
DEPTH_SOURCES = ('predicted', 'predicted_detached', 'predicted_argmax',
                 'lidar', 'lidar_in_boxes', 'lidar_outside_boxes',
                 'box_depth_in_boxes')


class BEVGrid(NamedTuple):
    """The student's BEV map grid, for the distiller's build-time check.

    Attributes:
        shape (tuple[int]): (C, Y, X) of the BEV map.
        point_cloud_range (tuple[float]): [x0, y0, z0, x1, y1, z1], metres.
        voxel_size (tuple[float]): [vx, vy, vz], metres.
    """

    shape: Tuple[int, int, int]
    point_cloud_range: Tuple[float, ...]
    voxel_size: Tuple[float, ...]

    @property
    def cell(self) -> Tuple[float, float]:
        """(vx, vy): the size of a BEV cell, metres."""
        return tuple(self.voxel_size[:2])

    @property
    def xy_range(self) -> Tuple[float, float, float, float]:
        """(x0, y0, x1, y1), metres."""
        r = self.point_cloud_range
        return (r[0], r[1], r[3], r[4])


class StudentLossOutputs(NamedTuple):
    """What :meth:`CMKDMono3D.loss_and_bev` gives the distiller.

    Attributes:
        losses (dict[str, Tensor]): The student's own losses, unprefixed:
            ``loss_depth`` (with ``loss_depth``) then the head's
            ground-truth losses (with ``with_gt_loss``).
        bev (Tensor): (B, C, Y, X) BEV map after SCNet, the map distilled
            from the teacher's.
        head_outs (tuple, optional): ``bbox_head(bev_head_inputs(bev))``
            on all frames, with ``with_head_outputs`` (else None), for the
            response distillation.
    """

    losses: Dict[str, Tensor]
    bev: Tensor
    head_outs: Optional[tuple] = None


def perturb_instance_depth(depth: Tensor, rel_std: float,
                           generator: Optional[torch.Generator] = None
                           ) -> Tensor:
    """Each object's depth times its own random factor: the error model of
    the ``box_depth_in_boxes`` oracle's ``box_depth_noise``.

    Args:
        depth (Tensor): (M, Hf, Wf) metres, one value per object on its
            cells and 0 elsewhere (the centre-depth map of
            :func:`~cmkd_mmdet3d.structures.box_instance_maps`); each
            distinct positive value of a map is taken as one object.
        rel_std (float): standard deviation of the relative error: every
            object's depth is multiplied by ``1 + rel_std * N(0, 1)``
            (clamped at 0.05), one draw per object and map.
        generator (torch.Generator, optional): the random source.

    Returns:
        Tensor: (M, Hf, Wf), 0 where ``depth`` is 0.
    """
    out = depth.clone()
    for m, d in enumerate(depth):
        on = d > 0
        values, which = torch.unique(d[on], return_inverse=True)
        noise = torch.randn(len(values), generator=generator,
                            dtype=d.dtype).to(d.device)
        factor = (1 + rel_std * noise).clamp_min(0.05)
        out[m][on] = d[on] * factor[which]
    return out


def _matrix(value, rows: Tuple[int, ...], key: str, sample: Det3DDataSample,
            device) -> Tensor:
    m = torch.as_tensor(np.asarray(value, dtype=np.float32), device=device)
    if 3 in rows and tuple(m.shape) == (3, 3):   # nuScenes / Waymo cam2img
        m = torch.cat([m, m.new_zeros(3, 1)], 1)
    if m.dim() != 2 or m.shape[0] not in rows or m.shape[1] != 4:
        raise ValueError(
            f"{key} of {sample.metainfo.get('img_path', 'a sample')} must be "
            f"{' or '.join(f'{r}x4' for r in rows)}, got {tuple(m.shape)}")
    if not torch.isfinite(m).all():
        raise ValueError(f"{key} of {sample.metainfo.get('img_path')} has "
                         'non-finite entries')
    return m


def decode_head_outputs(bbox_head: nn.Module, outs: tuple,
                        batch_input_metas: List[dict]) -> List[InstanceData]:
    """Raw dense-head outputs -> boxes, as the head's own ``predict`` does
    after its ``forward``: box decoding, score threshold and NMS.

    The one post-processing of the student, shared by
    :meth:`CMKDMono3D.predict` and the ONNX runtime path
    (:class:`~cmkd_mmdet3d.apis.ONNXStudent`), so that both give the same
    boxes from the same outputs.

    Args:
        bbox_head (nn.Module): The student's head (an mmdet3d
            ``Anchor3DHead`` or ``CenterHead`` subclass); only its anchors,
            box coder and ``test_cfg`` are used.
        outs (tuple): What ``bbox_head.forward`` returns: per-level lists
            of cls (B, A * K, Y', X'), box (B, A * 7, Y', X') and direction
            (B, A * 2, Y', X') maps, or CenterHead's per-task dicts.
        batch_input_metas (list[dict]): B metainfo dicts (``box_type_3d``).

    Returns:
        list[InstanceData]: B results with ``bboxes_3d`` (LiDAR boxes),
        ``scores_3d`` and ``labels_3d``.
    """
    if isinstance(bbox_head, CenterHead):
        return bbox_head.predict_by_feat(outs, batch_input_metas,
                                         rescale=True)
    return bbox_head.predict_by_feat(
        *outs, batch_input_metas=batch_input_metas, rescale=False)


@MODELS.register_module()
class CMKDMono3D(NonFiniteLossGuard, CheckpointKeysGuard, Base3DDetector):
    """Monocular BEV detector: image -> depth distribution and features
    (``img_backbone``) -> voxel grid -> BEV map (``lift_neck``, the map that
    CMKD distils) -> ``backbone`` / ``neck`` / ``bbox_head`` (mmdet3d's
    SECOND / SECONDFPN / Anchor3DHead or CenterHead, the same module names
    as the LiDAR teachers' so their weights load by name).

    Boxes are predicted in LiDAR coordinates from images plus ``lidar2cam``
    / ``cam2img`` metainfo; no LiDAR is needed at inference. One camera per
    sample (KITTI: ``imgs`` (B, 3, H, W)) or several (nuScenes' six, as
    mmdet3d batches them: ``imgs`` (B, N, 3, H, W) and a list of N matrices
    per metainfo key): the depth network then sees B * N images and the
    lift neck puts all N into one grid (CMKD-MV's surround view). Training uses
    the ground-truth boxes and, with ``loss_depth``, the depth targets packed
    as ``data_sample.gt_depth``. ``backbone``, ``neck`` and ``bbox_head``
    may be left out (the image branch alone, CMKD's stage 1).

    The depth discretisation (``mode`` / ``depth_min`` / ``depth_max`` /
    ``num_bins``, read from ``lift_neck`` or from ``depth_bins``) is built
    once as :class:`~cmkd_mmdet3d.models.utils.depth_bins.DepthBins`
    (:attr:`depth_bins`) and shared by the depth network, the lift neck and
    the depth targets.

    Interface of the distiller (``CMKD``): :meth:`loss_and_bev` (the
    student's own losses, the BEV map and the head outputs in one pass),
    :attr:`bev_grid`, :meth:`load_image_branch` and ``bbox_head`` (response
    losses).

    Args:
        img_backbone (dict): e.g. ``DepthDistributionNet``; its
            ``num_bins`` may be left out (it must agree when given).
        lift_neck (dict): ``DepthLiftNeck``, with the depth-bin keys unless
            ``depth_bins`` is given.
        backbone, neck, bbox_head (dict, optional): BEV detector parts.
        loss_depth (dict, optional): e.g. ``DepthFocalLoss``.
        depth_bins (dict, optional): ``dict(mode, depth_min, depth_max,
            num_bins)``, instead of the keys in ``lift_neck`` (any given
            there must agree).
        nonfinite_loss (str | dict, optional): What a NaN / inf loss does:
            ``'raise'`` (default: training stops, naming the loss keys, the
            iteration and the frames) or ``dict(action='skip',
            max_consecutive=5)`` (the step is skipped without an optimizer
            update; more consecutive skips stop training). See
            :class:`~cmkd_mmdet3d.models.detectors.guards.NonFiniteLossGuard`.
        depth_source (str): ``'predicted'`` (default: the depth network's
            distribution is lifted) or ``'lidar'``: the depth oracle, an
            upper bound of what the lift and the BEV detector can do with
            perfect depth. The one-hot bins of the projected LiDAR sweep
            (``gt_depth``, made by ``MakeDepthTarget`` in the train *and*
            test pipelines) replace the predicted distribution in the lift;
            cells without a LiDAR point lift nothing. The image features
            still come from the image. ``'predicted_detached'``: the
            predicted distribution with its gradient stopped before the
            lift, so that only the depth loss trains the depth head (the
            detection losses still train the image features through
            ``feats``). Not the reference (CaDDN and CMKD let the detection
            losses reach the depth logits through the lift); a probe of
            whether those gradients spoil the depth.
            ``'predicted_argmax'``: the one-hot bins of the predicted
            distribution's argmax, lifted like the oracle (one bin per cell,
            no gradient to the depth head through the lift). Not the
            reference; a probe of whether the softness of the predicted
            distribution, rather than its error, separates the student from
            the oracle.
            ``'lidar_in_boxes'`` / ``'lidar_outside_boxes'``: the oracle's
            one-hot LiDAR bins on the feature cells inside (outside) the
            image boxes of the sample's 3D boxes
            (:meth:`depth_foreground`), the predicted distribution
            elsewhere. Probes that split the oracle's gain between the
            objects' depth and the rest of the scene; at test time the boxes
            are the frame's annotations (``eval_ann_info``), so these read
            the labels as well as the sweep.
            ``'box_depth_in_boxes'``: on the same cells the one-hot bin of
            the depth of the box's centre (the nearest box where two
            overlap, :meth:`object_targets`), the predicted distribution
            elsewhere: the oracle of what ``object_depth`` predicts (one
            depth per object) where the LiDAR in-box oracle has one per
            pixel. It reads the labels, not the sweep.
        box_depth_noise (float): with ``'box_depth_in_boxes'``, the
            relative standard deviation of an error put on each object's
            depth, drawn afresh at every forward pass
            (:func:`perturb_instance_depth`): how exact the objects' depth
            must be. Defaults to 0.
        object_depth (dict, optional): e.g. ``dict(type='ObjectDepthHead',
            in_channels=64)`` (:class:`~cmkd_mmdet3d.models.layers.
            ObjectDepthHead`), fed with the depth network's ``context``:
            every cell also predicts whether it lies on an object, and the
            geometric depth of that object (its image box's height against
            its size, ``z = f_y * s / h``, as MonoFlex and GUPNet relate
            them); the lift takes the mixture of the per-cell bins and a
            sharp distribution at that depth, weighted by the object
            probability (:meth:`lift_logits`). Trained on the boxes' image
            boxes (``loss_obj_*``). Not in CMKD or CaDDN; off in the
            reference configs. Needs ``depth_source='predicted'``.

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
                 nonfinite_loss: Union[None, str, dict] = None,
                 depth_bins: Optional[dict] = None,
                 depth_source: str = 'predicted',
                 object_depth: Optional[dict] = None,
                 box_depth_noise: float = 0.0) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if depth_source not in DEPTH_SOURCES:
            raise ValueError(f'depth_source must be one of {DEPTH_SOURCES} '
                             f"('lidar': the depth oracle), got "
                             f'{depth_source!r}')
        self.depth_source = depth_source
        noise_ok = box_depth_noise >= 0 and (
            not box_depth_noise or depth_source == 'box_depth_in_boxes')
        if not noise_ok:
            raise ValueError(f'box_depth_noise ({box_depth_noise!r}) must '
                             f"be >= 0 and needs depth_source="
                             f"'box_depth_in_boxes', got {depth_source!r}")
        self.box_depth_noise = float(box_depth_noise)
        self._init_nonfinite_guard(nonfinite_loss)
        self.depth_bins = self._build_depth_bins(depth_bins, lift_neck,
                                                 img_backbone)
        lift_neck = {k: v for k, v in lift_neck.items()
                     if k not in DEPTH_BIN_KEYS}
        img_backbone = {k: v for k, v in img_backbone.items()
                        if k != 'num_bins'}
        self.img_backbone = MODELS.build(
            dict(img_backbone, depth_bins=self.depth_bins))
        self.lift_neck = MODELS.build(
            dict(lift_neck, depth_bins=self.depth_bins))
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
        if object_depth is not None and depth_source != 'predicted':
            raise ValueError(f'object_depth needs depth_source='
                             f"'predicted', got {depth_source!r}")
        self.object_depth = MODELS.build(object_depth) \
            if object_depth else None
        self.train_cfg, self.test_cfg = train_cfg, test_cfg

    @staticmethod
    def _build_depth_bins(depth_bins: Optional[dict], lift_neck: Mapping,
                          img_backbone: Mapping) -> DepthBins:
        """The one :class:`DepthBins` of the student, validated here (at
        build time): from ``depth_bins`` or the keys of ``lift_neck``; the
        other places that name a setting must agree."""
        in_neck = {k: lift_neck[k] for k in DEPTH_BIN_KEYS if k in lift_neck}
        if depth_bins is not None:
            bins = DepthBins.build(depth_bins, owner='CMKDMono3D.depth_bins')
            for k, v in in_neck.items():
                if v != getattr(bins, k):
                    raise ValueError(
                        f'lift_neck.{k} ({v!r}) differs from '
                        f'depth_bins.{k} ({getattr(bins, k)!r})')
        else:
            bins = DepthBins.build(in_neck, owner='DepthLiftNeck')
        n = img_backbone.get('num_bins')
        if n is not None and n != bins.num_bins:
            raise ValueError(f'img_backbone predicts {n} bins, lift_neck '
                             f'expects {bins.num_bins}')
        return bins

    @property
    def bev_grid(self) -> BEVGrid:
        """The BEV map's (C, Y, X), grid range and voxel size
        (:class:`BEVGrid`), for the distiller's grid check and box mask."""
        neck = self.lift_neck
        return BEVGrid(tuple(neck.bev_shape),
                       tuple(neck.point_cloud_range),
                       tuple(neck.voxel_size))

    #: The image branch (CMKD stage 1), as module names.
    image_branch = ('img_backbone', 'lift_neck')

    def load_image_branch(self, state_dict: Mapping[str, Tensor],
                          source: str = '<state dict>',
                          prefix: str = '') -> Dict[str, int]:
        """Load :attr:`image_branch` strictly from a student state dict
        (keys ``img_backbone.*`` / ``lift_neck.*``; others are ignored).

        Args:
            state_dict (Mapping[str, Tensor]): The student's keys.
            source (str): The checkpoint, for the error.
            prefix (str): Printed before the module names in the error
                (e.g. ``'student.'``).

        Returns:
            dict[str, int]: Tensors loaded per module.

        Raises:
            ValueError: If a module has no tensors in ``state_dict``.
        """
        loaded = {}
        for part in self.image_branch:
            head = f'{part}.'
            sub = {k[len(head):]: v for k, v in state_dict.items()
                   if k.startswith(head)}
            if not sub:
                raise ValueError(f'{source} has no {prefix}{head}* weights: '
                                 'is it a CMKD stage-1 checkpoint?')
            getattr(self, part).load_state_dict(sub, strict=True)
            loaded[part] = len(sub)
        return loaded

    #: The BEV detector (CMKD stage 2 initialises it from the teacher).
    bev_detector = ('backbone', 'neck', 'bbox_head')

    def load_bev_detector(self, states: Mapping[str, Optional[Mapping]],
                          source: str = '<state dicts>') -> List[str]:
        """Load :attr:`bev_detector` strictly, part by part: CMKD's stage-2
        initialisation from the LiDAR teacher's BEV backbone, neck and head
        (the reference loads the teacher checkpoint into the student by name
        and shape, ``Cc-Hy/CMKD:tools/train_cmkd.py
        --pretrained_lidar_model``, before the stage-1 image branch).

        Args:
            states (Mapping[str, Mapping | None]): A state dict per part
                name; a part this student has must be given.
            source (str): Where the tensors come from, for the errors.

        Returns:
            list[str]: The loaded keys (``backbone.*`` ...).

        Raises:
            ValueError: naming the part and up to three keys whose names or
                shapes differ (the two BEV detector configs must match).
        """
        loaded = []
        for name in self.bev_detector:
            own = getattr(self, name, None)
            if own is None:
                continue
            state = states.get(name)
            if state is None:
                raise ValueError(f'{source} has no {name} to initialise the '
                                 f"student's {name} from")
            mine = own.state_dict()
            bad = sorted(set(state) ^ set(mine)) + sorted(
                k for k in set(state) & set(mine)
                if tuple(state[k].shape) != tuple(mine[k].shape))
            if bad:
                raise ValueError(
                    f'student {name} and {name} of {source} differ '
                    f'({len(bad)} keys, e.g. {bad[:3]}): stage 2 copies the '
                    "teacher's BEV backbone / neck / head into the student, "
                    'so their configs must match')
            own.load_state_dict(state, strict=True)
            loaded += [f'{name}.{k}' for k in mine]
        return loaded

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
        """Images, lidar2cam, cam2img and the padded (H, W), with the shapes
        checked: (B, 3, H, W), (B, 4, 4), (B, 3, 4) for one camera per
        sample, or (B, N, 3, H, W), (B, N, 4, 4), (B, N, 3, 4) for N
        (mmdet3d's multi-view batches; the metainfo then holds a list of N
        matrices per key, in the order of the images)."""
        if 'imgs' not in batch_inputs_dict:
            raise KeyError('CMKDMono3D needs images: pack "img" in the '
                           'pipeline (Pack3DDetInputs / PackCMKDInputs)')
        img = batch_inputs_dict['imgs']
        device = img.device

        def matrices(s, key, rows):
            value = s.metainfo[key]
            if img.dim() == 4:
                m = _matrix(value, rows, key, s, device)
                return m[:3] if key == 'cam2img' else m
            if len(value) != img.shape[1]:
                raise ValueError(
                    f"{key} of sample {s.metainfo.get('sample_idx', '?')} "
                    f'has {len(value)} matrices for {img.shape[1]} images')
            keep = 3 if key == 'cam2img' else 4
            return torch.stack([
                _matrix(v, rows, f'{key}[{i}]', s, device)[:keep]
                for i, v in enumerate(value)])

        if img.dim() not in (4, 5):
            raise ValueError(f'imgs must be (B, 3, H, W) or (B, N, 3, H, W), '
                             f'got {tuple(img.shape)}')
        l2c = torch.stack([matrices(s, 'lidar2cam', (4, ))
                           for s in batch_data_samples])
        c2i = torch.stack([matrices(s, 'cam2img', (3, 4))
                           for s in batch_data_samples])
        return img, l2c, c2i, tuple(img.shape[-2:])

    def extract_bev(self, batch_inputs_dict: dict,
                    batch_data_samples: List[Det3DDataSample]
                    ) -> Dict[str, Tensor]:
        """dict(bev (B, C, Y, X) after SCNet, depth_logits
        (M, D + 1, Hf, Wf) predicted by the depth network; M = B, or B * N
        for N cameras per sample, sample-major).

        With ``depth_source='lidar'`` the lift takes the one-hot bins of
        the samples' ``gt_depth`` instead of ``depth_logits``; with
        ``'predicted_detached'`` it takes ``depth_logits`` without their
        gradient; with ``'predicted_argmax'`` the one-hot bins of their
        argmax; with ``'lidar_in_boxes'`` (``'lidar_outside_boxes'``) the
        one-hot bins of ``gt_depth`` on the cells inside (outside) the
        boxes' image boxes and ``depth_logits`` elsewhere; with
        ``'box_depth_in_boxes'`` the one-hot bin of the box centre's depth
        on the cells inside the boxes. With
        ``object_depth`` also ``object_depth`` (its head's outputs,
        (M, Hf, Wf) each), and the lift takes :meth:`lift_logits`."""
        img, l2c, c2i, img_shape = self.camera_inputs(batch_inputs_dict,
                                                      batch_data_samples)
        out = self.img_backbone(img.flatten(0, 1) if img.dim() == 5 else img)
        lifted = self.lift_logits(out, c2i, img_shape)
        if self.depth_source == 'lidar':
            lifted = one_hot_depth_logits(
                self.depth_targets(batch_data_samples, lifted.shape[-2:],
                                   lifted.device),
                self.depth_bins.num_classes)
        elif self.depth_source == 'predicted_detached':
            lifted = lifted.detach()
        elif self.depth_source == 'predicted_argmax':
            lifted = one_hot_depth_logits(lifted.detach().argmax(1),
                                          lifted.shape[1])
        elif self.depth_source in ('lidar_in_boxes', 'lidar_outside_boxes'):
            shape = lifted.shape[-2:]
            classes = self.depth_targets(batch_data_samples, shape,
                                         lifted.device)
            fg = self.depth_foreground(batch_inputs_dict, batch_data_samples,
                                       shape, lifted.device)
            if self.depth_source == 'lidar_outside_boxes':
                fg = ~fg
            lifted = self._one_hot_on(fg, classes, lifted)
        elif self.depth_source == 'box_depth_in_boxes':
            fg, _, depth = self.object_targets(
                batch_inputs_dict, batch_data_samples, lifted.shape[-2:],
                lifted.device)
            if self.box_depth_noise:
                depth = perturb_instance_depth(depth, self.box_depth_noise)
            lifted = self._one_hot_on(fg & (depth > 0),
                                      self.depth_bins.targets(depth), lifted)
        bev = self.lift_neck(lifted, out['feats'], l2c, c2i, img_shape)
        result = dict(bev=bev, depth_logits=out['depth_logits'])
        if 'object_depth' in out:
            result['object_depth'] = out['object_depth']
        return result

    def _one_hot_on(self, mask: Tensor, classes: Tensor,
                    logits: Tensor) -> Tensor:
        """``logits`` (M, D + 1, Hf, Wf) with the one-hot of the depth
        ``classes`` (M, Hf, Wf) on the cells of ``mask`` (M, Hf, Wf): the
        box-split oracles' mixture."""
        oracle = one_hot_depth_logits(classes, self.depth_bins.num_classes)
        return torch.where(mask[:, None], oracle, logits)

    def lift_logits(self, out: Dict[str, Tensor], cam2img: Tensor,
                    img_shape: Tuple[int, int]) -> Tensor:
        """The depth logits the lift takes from the depth network's
        output: ``depth_logits``, or with ``object_depth`` their mixture
        with the objects' geometric depth
        (:meth:`ObjectDepthHead.lift_logits`); the head's outputs are then
        stored in ``out['object_depth']``. Shared by :meth:`extract_bev`
        and the ONNX export.

        Args:
            out (dict): the depth network's output: ``depth_logits``
                (M, D + 1, Hf, Wf), and ``context`` (M, C, Hf, Wf) with
                ``object_depth``.
            cam2img (Tensor): (B, 3 or 4, 4), or (B, N, 3 or 4, 4).
            img_shape (tuple): padded image (H, W), pixels.

        Returns:
            Tensor: (M, D + 1, Hf, Wf) logits.
        """
        logits = out['depth_logits']
        if self.object_depth is None:
            return logits
        out['object_depth'] = self.object_depth(out['context'])
        return self.object_depth.lift_logits(
            logits, out['object_depth'], cam2img[..., 1, 1].reshape(-1),
            img_shape[0] / logits.shape[-2], self.depth_bins)

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
        """(M, Hf, Wf) depth classes, M = B, or B * N for N cameras per
        sample (``gt_depth`` (N, h, w)); missing depth and the batch
        padding are class D ("beyond"), as in the reference."""
        hf, wf = feat_shape
        maps = []
        for s in batch_data_samples:
            if 'gt_depth' not in s:
                raise KeyError(
                    f"no gt_depth for {s.metainfo.get('img_path')}: add "
                    'MakeDepthTarget and PackCMKDInputs to the pipeline '
                    "(loss_depth and depth_source='lidar' need it, the "
                    'latter in the test pipeline too)')
            d = s.gt_depth
            where = s.metainfo.get('img_path') or s.metainfo.get(
                'lidar_path')
            made = s.metainfo.get('depth_stride')
            net = getattr(self.img_backbone, 'stride', None)
            if net is not None and made is not None and made != net:
                raise ValueError(
                    f'depth target of {where} was made at stride {made} '
                    f'{tuple(d.shape)}, the depth network predicts at stride '
                    f'{net} (feature map {tuple(feat_shape)}): set '
                    f'MakeDepthTarget(stride={net})')
            if d.shape[-2] > hf or d.shape[-1] > wf:
                raise ValueError(f'depth target {tuple(d.shape)} of {where} '
                                 f'is larger than the feature map '
                                 f'{feat_shape}')
            maps += list(d) if d.dim() == 3 else [d]
        depth = torch.zeros(len(maps), hf, wf, device=device)
        for i, d in enumerate(maps):
            depth[i, :d.shape[0], :d.shape[1]] = d
        return self.depth_bins.targets(depth)

    def depth_foreground(self, batch_inputs_dict: dict,
                         batch_data_samples: List[Det3DDataSample],
                         feat_shape: Tuple[int, int], device) -> Tensor:
        """(M, Hf, Wf) bool: the feature cells inside the image box of a
        ground-truth (or pseudo-label) box of the sample, per camera
        (:func:`~cmkd_mmdet3d.structures.box_foreground_mask`), for
        CaDDN's foreground-weighted depth loss and the box-split depth
        oracles; all False on a frame without boxes. M = B, or B * N for N
        cameras per sample. A sample without ``gt_instances_3d`` boxes (a
        test frame) takes the boxes of its ``eval_ann_info``, if any."""
        return torch.stack(self._per_camera_boxes(
            box_foreground_mask, batch_inputs_dict, batch_data_samples,
            feat_shape, device))

    def object_targets(self, batch_inputs_dict: dict,
                       batch_data_samples: List[Det3DDataSample],
                       feat_shape: Tuple[int, int], device
                       ) -> Tuple[Tensor, Tensor, Tensor]:
        """The boxes' maps per camera for ``object_depth``'s loss
        (:func:`~cmkd_mmdet3d.structures.box_instance_maps`), the boxes
        taken as in :meth:`depth_foreground`.

        Returns:
            tuple[Tensor]: ``mask`` (M, Hf, Wf) bool, ``height`` (pixels)
            and ``depth`` (metres) (M, Hf, Wf).
        """
        maps = self._per_camera_boxes(box_instance_maps, batch_inputs_dict,
                                      batch_data_samples, feat_shape, device)
        return tuple(torch.stack(m) for m in zip(*maps))

    def _per_camera_boxes(self, fn, batch_inputs_dict: dict,
                          batch_data_samples: List[Det3DDataSample],
                          feat_shape: Tuple[int, int], device) -> list:
        """``fn(corners, lidar2img, img_shape, feat_shape)`` for every
        camera of every sample (M results, sample-major), with the sample's
        ``gt_instances_3d`` boxes, else its ``eval_ann_info`` boxes, else
        none."""
        _, l2c, c2i, img_shape = self.camera_inputs(batch_inputs_dict,
                                                    batch_data_samples)
        l2i = compose_lidar2img(l2c, c2i)  # (B, [N,] 4, 4)
        results = []
        for s, mats in zip(batch_data_samples, l2i):
            inst = s.get('gt_instances_3d')
            boxes = None if inst is None else inst.get('bboxes_3d')
            if boxes is None:
                boxes = (s.get('eval_ann_info') or {}).get('gt_bboxes_3d')
            corners = (boxes.corners.to(device=device, dtype=l2i.dtype)
                       if boxes is not None and len(boxes) else
                       torch.zeros(0, 8, 3, device=device, dtype=l2i.dtype))
            for m in (mats if mats.dim() == 3 else mats[None]):
                results.append(fn(corners, m, img_shape, feat_shape))
        return results

    def depth_loss(self, logits: Tensor, batch_inputs_dict: dict,
                   batch_data_samples: List[Det3DDataSample]) -> Tensor:
        """``loss_depth`` of the depth logits against :meth:`depth_targets`,
        with :meth:`depth_foreground` when the loss weighs the objects'
        pixels apart (``DepthFocalLoss(fg_weight=..., bg_weight=...)``).

        Args:
            logits (Tensor): (M, D + 1, Hf, Wf) depth-bin logits.
            batch_inputs_dict (dict): ``imgs`` (for the camera matrices).
            batch_data_samples (list[Det3DDataSample]): with ``gt_depth``.

        Returns:
            Tensor: scalar loss.
        """
        target = self.depth_targets(batch_data_samples, logits.shape[-2:],
                                    logits.device)
        if not getattr(self.loss_depth, 'needs_foreground', False):
            return self.loss_depth(logits, target)
        fg = self.depth_foreground(batch_inputs_dict, batch_data_samples,
                                   logits.shape[-2:], logits.device)
        return self.loss_depth(logits, target, fg_mask=fg)

    # ------------------------------------------------------------------
    def loss_and_bev(self, batch_inputs_dict: dict,
                     batch_data_samples: List[Det3DDataSample],
                     with_gt_loss: bool = True,
                     with_head_outputs: bool = False,
                     labeled_only: bool = True) -> StudentLossOutputs:
        """The student's own losses and its BEV map in one forward pass: the
        interface of the distiller (``CMKD.loss``).

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W), normalised and
                padded; other keys (``voxels`` ...) are ignored.
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``lidar2cam`` (4, 4) / ``cam2img`` (3|4, 4) metainfo, and
                ``gt_depth`` (h, w) with ``loss_depth``, ``gt_instances_3d``
                with ``with_gt_loss``.
            with_gt_loss (bool): Add the head's ground-truth losses.
            with_head_outputs (bool): Also return the head's raw outputs on
                all B frames (response distillation).
            labeled_only (bool): The ground-truth losses use only the frames
                whose metainfo ``has_labels`` is not False (unlabeled frames
                teach through distillation only); none when no frame has
                labels. False: all frames (:meth:`loss`).

        Returns:
            StudentLossOutputs: ``(losses, bev, head_outs)``: ``losses``
            unprefixed (``loss_depth`` when the student has ``loss_depth``,
            then the head's ``loss_*``); ``bev`` (B, C, Y, X), C, Y, X =
            :attr:`bev_grid` ``.shape``; ``head_outs`` the head's
            ``forward`` on (B, ...) or None.
        """
        out = self.extract_bev(batch_inputs_dict, batch_data_samples)
        losses = {}
        if self.loss_depth is not None:
            losses['loss_depth'] = self.depth_loss(
                out['depth_logits'], batch_inputs_dict, batch_data_samples)
        if 'object_depth' in out:
            losses.update(self.object_depth_loss(
                out['object_depth'], batch_inputs_dict, batch_data_samples,
                labeled_only))
        head_outs = None
        if self.bbox_head is not None and (with_gt_loss or with_head_outputs):
            x = self.bev_head_inputs(out['bev'])
            if with_head_outputs:
                head_outs = self.bbox_head(x)
            samples = batch_data_samples
            if with_gt_loss and labeled_only:
                labeled = [i for i, s in enumerate(samples)
                           if s.metainfo.get('has_labels', True)]
                if len(labeled) < len(samples):
                    x = [f[labeled] for f in x] if isinstance(
                        x, (list, tuple)) else x[labeled]
                    samples = [samples[i] for i in labeled]
            if with_gt_loss and samples:
                losses.update(self.bbox_head.loss(x, samples))
        return StudentLossOutputs(losses, out['bev'], head_outs)

    def object_depth_loss(self, outs: Dict[str, Tensor],
                          batch_inputs_dict: dict,
                          batch_data_samples: List[Det3DDataSample],
                          labeled_only: bool = True) -> Dict[str, Tensor]:
        """``object_depth``'s losses against the boxes' maps
        (:meth:`object_targets`).

        Args:
            outs (dict): the head's outputs, (M, Hf, Wf) each.
            batch_inputs_dict (dict): ``imgs`` (for the camera matrices).
            batch_data_samples (list[Det3DDataSample]): with
                ``gt_instances_3d``.
            labeled_only (bool): only the cameras of the frames whose
                ``has_labels`` is not False (an unlabeled frame has no boxes,
                which would teach "no object here").

        Returns:
            dict[str, Tensor]: ``loss_obj_fg`` / ``loss_obj_height`` /
            ``loss_obj_size``, 0 when no frame is labeled.
        """
        shape = outs['fg_logit'].shape[-2:]
        device = outs['fg_logit'].device
        mask, height, depth = self.object_targets(
            batch_inputs_dict, batch_data_samples, shape, device)
        _, _, c2i, img_shape = self.camera_inputs(batch_inputs_dict,
                                                  batch_data_samples)
        focal = c2i[..., 1, 1].reshape(-1)
        keep = torch.tensor(
            [bool(s.metainfo.get('has_labels', True)) or not labeled_only
             for s in batch_data_samples], device=device)
        keep = keep.repeat_interleave(len(focal) // len(batch_data_samples))
        if not keep.any():
            return {f'loss_obj_{k}': outs['fg_logit'].sum() * 0
                    for k in ('fg', 'height', 'size')}
        return self.object_depth.loss(
            {k: v[keep] for k, v in outs.items()}, mask[keep], height[keep],
            depth[keep], focal[keep], img_shape[0] / shape[0])

    def loss_depth_only(self, batch_inputs_dict: dict,
                        batch_data_samples: List[Det3DDataSample]) -> dict:
        """Depth pre-training: the depth network's focal loss alone, without
        the lift (its output would feed no loss).

        The reference pre-trains its depth network on KITTI raw with LiDAR
        depth before distillation (Cc-Hy/CMKD issue 54); here any frame
        with an image and a sweep (labeled or not) is a training sample.

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W).
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``gt_depth`` (h, w) at the depth network's stride.

        Returns:
            dict[str, Tensor]: ``loss_depth`` (scalar).
        """
        img, _, _, _ = self.camera_inputs(batch_inputs_dict,
                                          batch_data_samples)
        logits = self.img_backbone(
            img.flatten(0, 1) if img.dim() == 5 else img)['depth_logits']
        return dict(loss_depth=self.depth_loss(logits, batch_inputs_dict,
                                               batch_data_samples))

    def loss(self, batch_inputs_dict: dict,
             batch_data_samples: List[Det3DDataSample]) -> dict:
        """Training losses of the student on its own: depth loss +
        detection losses (``CMKD_MONO.get_training_loss`` of
        ``Cc-Hy/CMKD:pcdet/models/detectors/cmkd.py``).

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W).
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``lidar2cam`` / ``cam2img`` metainfo, ``gt_instances_3d``
                and, with ``loss_depth``, ``gt_depth`` (h, w) at the depth
                network's stride.

        Returns:
            dict[str, Tensor]: ``loss_depth`` (with ``loss_depth``) and the
            head's losses (e.g. ``loss_cls`` / ``loss_bbox`` /
            ``loss_dir``) on all B frames. Without ``bbox_head`` only
            ``loss_depth`` (:meth:`loss_depth_only`, depth pre-training).

        Raises:
            RuntimeError: with neither ``bbox_head`` nor ``loss_depth``.
        """
        if self.bbox_head is None and self.loss_depth is not None:
            return self.loss_depth_only(batch_inputs_dict, batch_data_samples)
        losses = self.loss_and_bev(batch_inputs_dict, batch_data_samples,
                                   with_gt_loss=True,
                                   labeled_only=False).losses
        if not losses:
            raise RuntimeError('CMKDMono3D has neither a bbox_head nor a '
                               'loss_depth to train on its own; the image '
                               'branch alone trains inside CMKD')
        return losses

    def predict(self, batch_inputs_dict: dict,
                batch_data_samples: List[Det3DDataSample]
                ) -> List[Det3DDataSample]:
        """Boxes from images alone.

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W).
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``lidar2cam`` / ``cam2img`` metainfo.

        Returns:
            list[Det3DDataSample]: The samples with ``pred_instances_3d``
            (``bboxes_3d`` (N, 7) LiDAR boxes, ``scores_3d`` (N,),
            ``labels_3d`` (N,)).

        Raises:
            RuntimeError: without ``bbox_head``.
        """
        if self.bbox_head is None:
            raise RuntimeError('CMKDMono3D without bbox_head cannot predict '
                               'boxes')
        x = self.extract_feat(batch_inputs_dict, batch_data_samples)
        results = decode_head_outputs(
            self.bbox_head, self.bbox_head(x),
            [s.metainfo for s in batch_data_samples])
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self, batch_inputs_dict: dict,
                 batch_data_samples: Optional[List[Det3DDataSample]] = None):
        """Raw network outputs (``mode='tensor'``).

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W).
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``lidar2cam`` / ``cam2img`` metainfo.

        Returns:
            tuple | Tensor: The head's ``forward`` outputs (per level, e.g.
            cls (B, A * K, Y', X'), bbox, dir maps), or the BEV map
            (B, C, Y, X) without ``bbox_head``.
        """
        out = self.extract_bev(batch_inputs_dict, batch_data_samples)
        if self.bbox_head is None:
            return out['bev']
        return self.bbox_head.forward(self.bev_head_inputs(out['bev']))
