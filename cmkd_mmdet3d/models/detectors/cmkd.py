"""CMKD: a frozen LiDAR teacher distils into the camera student."""
import os.path as osp
from typing import List, Optional, Union

import torch
from mmdet3d.models.detectors import Base3DDetector
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample
from mmengine.logging import print_log

from ..utils.config_checks import check_voxel_grid
from .guards import CheckpointKeysGuard, NonFiniteLossGuard
from .teacher_utils import (build_frozen_teacher, distiller_preprocessor,
                            load_teacher_checkpoint, model_cfg_from,
                            teacher_bev_detector_state,
                            teacher_bev_and_outputs, teacher_bev_grid,
                            teacher_head, teacher_point_dims)


def _prefixed(losses: dict, prefix: str) -> dict:
    return {f'{prefix}.{k}': v for k, v in losses.items()}


def check_bev_grids(teacher: torch.nn.Module, student: torch.nn.Module,
                    data_preprocessor) -> None:
    """Teacher and student BEV maps must coincide cell for cell (range,
    cell size, shape, channels); otherwise a ValueError naming both.

    Args:
        teacher (nn.Module): The LiDAR detector.
        student (CMKDMono3D): The camera student (its ``bev_grid``).
        data_preprocessor: The preprocessor that voxelises the teacher's
            points (its ``voxel_layer`` range and voxel size).

    Raises:
        ValueError: without a ``voxel_layer``, or when the grids differ.
    """
    vl = getattr(data_preprocessor, 'voxel_layer', None)
    if vl is None:
        raise ValueError('CMKD needs a data_preprocessor with voxel=True '
                         'and the teacher\'s voxel_layer settings')
    check_voxel_grid(list(vl.point_cloud_range), list(vl.voxel_size),
                     'CMKD', 'data_preprocessor.voxel_layer.'
                     'point_cloud_range',
                     'data_preprocessor.voxel_layer.voxel_size')
    t = teacher_bev_grid(teacher, list(vl.point_cloud_range),
                         list(vl.voxel_size))
    grid = student.bev_grid
    s = dict(shape=tuple(grid.shape), cell=tuple(grid.cell),
             range=tuple(grid.xy_range))

    def close(x, y):
        return all(abs(a - b) < 1e-4 for a, b in zip(x, y))

    ok = (t['shape'] == s['shape']
          and t['voxel_grid'] == t['expected_voxel_grid']
          and close(t['cell'], s['cell'])
          and close(t['range'], s['range']))
    if not ok:
        raise ValueError(
            'teacher and student BEV grids differ: teacher (C, Y, X) '
            f"{t['shape']}, cell {t['cell']} m, x/y range {t['range']} "
            f"({t['encoder']} grid {t['voxel_grid']}, voxel settings give "
            f"{t['expected_voxel_grid']}) vs student (C, Y, X) "
            f"{s['shape']}, cell {s['cell']} m, x/y range {s['range']}")


def check_direction_convention(teacher: torch.nn.Module,
                               student: torch.nn.Module) -> None:
    """Teacher and student anchor heads must bin headings alike.

    An anchor head's direction classifier splits the heading at
    ``dir_offset`` (+ k pi), with ``dir_limit_offset``; mmdet3d's default is
    -pi/2, CMKD's pi/4 (``Cc-Hy/CMKD``'s ``DIR_OFFSET: 0.78539``). When they
    differ, the teacher's direction probabilities (response distillation)
    and its direction weights (stage-2 initialisation) mean another bin
    than the student's for part of the headings, silently.

    Raises:
        ValueError: naming both settings, when both heads classify
            directions with different offsets.
    """
    t_head = teacher_head(teacher)
    s_head = getattr(student, 'bbox_head', None)
    heads = (t_head, s_head)
    if any(h is None or not getattr(h, 'use_direction_classifier', False)
           for h in heads):
        return
    t = (float(t_head.dir_offset), float(t_head.dir_limit_offset))
    s = (float(s_head.dir_offset), float(s_head.dir_limit_offset))
    if any(abs(a - b) > 1e-4 for a, b in zip(t, s)):
        raise ValueError(
            f'teacher and student heads bin headings differently: teacher '
            f'dir_offset {t[0]:.5f}, dir_limit_offset {t[1]:g} '
            f'({type(t_head).__name__}) vs student dir_offset {s[0]:.5f}, '
            f'dir_limit_offset {s[1]:g} ({type(s_head).__name__}); set the '
            "teacher config's bbox_head dir_offset / dir_limit_offset to "
            "the student's (CMKD: 0.78539 and 0)")


@MODELS.register_module()
class CMKD(NonFiniteLossGuard, CheckpointKeysGuard, Base3DDetector):
    """`CMKD <https://arxiv.org/abs/2211.07171>`_ distiller.

    Composes the camera ``student`` (a ``CMKDMono3D`` config, usable alone)
    and a LiDAR ``teacher`` (any voxel-based mmdet3d detector config). Both
    are given as a model dict, a config path (``pkg::`` allowed) or
    ``dict(cfg_path=..., **overrides)``. The teacher
    is a registered submodule, frozen when built (before any optimizer
    exists), loaded strictly from ``teacher_ckpt`` in :meth:`init_weights`
    (no I/O at build time), kept in ``eval()`` whatever ``train()`` is
    called with, and run under ``no_grad`` on the points of the same
    augmented sample, voxelised by this model's data preprocessor with the
    teacher's settings. Checkpoints hold both, so ``--resume`` and
    ``mim test`` work with them; ``tools/model_converters/extract_student.py``
    writes the student alone. Inference runs the student only.

    Losses (keys ``distill.*`` and ``student.*``; ``CMKD.get_training_loss``
    of ``Cc-Hy/CMKD:pcdet/models/detectors/cmkd.py``): BEV feature
    distillation (``loss_bev``) between the student's SCNet output and the
    teacher's BEV map; with ``with_response`` and a student head, the head's
    ``loss_by_teacher`` on the raw dense outputs; the student's depth loss
    when it has one; with ``with_gt_loss`` its ground-truth losses.

    The student is used through a narrow interface only:
    :meth:`~CMKDMono3D.loss_and_bev` (its own losses, BEV map and head
    outputs in one pass), :attr:`~CMKDMono3D.bev_grid`,
    :meth:`~CMKDMono3D.load_image_branch`, ``bbox_head`` (response losses)
    and the detector API (``init_weights`` / ``predict`` / ``_forward`` /
    ``extract_feat``).

    Args:
        student (dict): The student config.
        teacher (dict | str): The teacher model config or config path.
        teacher_ckpt (str, optional): Teacher checkpoint; required to train.
        loss_bev (dict): Defaults to ``BEVFeatureDistillLoss`` weight 32.
        with_response (bool): Response distillation (stage 2).
        with_gt_loss (bool): Add the student's ground-truth losses on the
            frames that have labels (ground truth or pseudo-labels; meta key
            ``has_labels``, True when absent); the reference never does
            (labeled frames are treated as unlabeled).
        stage1_ckpt (str, optional): Stage 2: initialise the student's image
            branch (``img_backbone``, ``lift_neck``) from this stage-1
            checkpoint. Required when ``init_bev_from_teacher`` and
            ``with_stage1``, refused otherwise (it would not be read).
        init_bev_from_teacher (bool): Stage 2: initialise the student's
            ``backbone`` / ``neck`` / ``bbox_head`` from the teacher's.
        with_stage1 (bool): With ``init_bev_from_teacher``, the image branch
            comes from ``stage1_ckpt`` (the reference's stage 2, default).
            False: CMKD in one stage whose BEV detector starts from the
            teacher's and whose image branch starts from its own init; no
            stage-1 checkpoint is read.
        data_preprocessor (dict, optional): Default: the student's (its
            image normalisation), voxelising the points as the teacher's
            own ``data_preprocessor.voxel_layer`` unless this one sets a
            ``voxel_layer`` (:func:`distiller_preprocessor`). A teacher
            rebuilt on the student's range overrides its
            ``data_preprocessor.voxel_layer.point_cloud_range`` with the
            rest of its grid.
        nonfinite_loss (str | dict, optional): What a NaN / inf loss does:
            ``'raise'`` (default: training stops, naming the loss keys, e.g.
            ``distill.loss_bev``, the iteration and the frames) or
            ``dict(action='skip', max_consecutive=5)``; see
            :class:`~cmkd_mmdet3d.models.detectors.guards.NonFiniteLossGuard`.
    """

    def __init__(self,
                 student: dict,
                 teacher: Union[dict, str],
                 teacher_ckpt: Optional[str] = None,
                 loss_bev: dict = dict(
                     type='BEVFeatureDistillLoss', loss_weight=32.0),
                 with_response: bool = False,
                 with_gt_loss: bool = False,
                 stage1_ckpt: Optional[str] = None,
                 init_bev_from_teacher: bool = False,
                 with_stage1: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 nonfinite_loss: Union[None, str, dict] = None) -> None:
        student = model_cfg_from(student, 'student')
        teacher = model_cfg_from(teacher, 'teacher')
        super().__init__(data_preprocessor=distiller_preprocessor(
            data_preprocessor, student, teacher), init_cfg=init_cfg)
        self._init_nonfinite_guard(nonfinite_loss)
        self.student = MODELS.build(student)
        self.teacher = build_frozen_teacher(teacher)
        self.teacher_point_dims = teacher_point_dims(teacher)
        self.teacher_ckpt = teacher_ckpt
        self.loss_bev = MODELS.build(loss_bev)
        self.with_response = with_response
        self.with_gt_loss = with_gt_loss
        self.stage1_ckpt = stage1_ckpt
        self.init_bev_from_teacher = init_bev_from_teacher
        self.with_stage1 = with_stage1
        if with_response and getattr(self.student, 'bbox_head',
                                     None) is None:
            raise ValueError('with_response=True needs a student bbox_head')
        if with_response and not hasattr(self.student.bbox_head,
                                         'loss_by_teacher'):
            raise TypeError(
                f'{type(self.student.bbox_head).__name__} has no '
                'loss_by_teacher; use CMKDAnchor3DHead or CMKDCenterHead')
        if stage1_ckpt and not (init_bev_from_teacher and with_stage1):
            raise ValueError(
                f'stage1_ckpt={stage1_ckpt!r} would not be read: it is read '
                'only with init_bev_from_teacher=True and with_stage1=True '
                f'(got init_bev_from_teacher={init_bev_from_teacher}, '
                f'with_stage1={with_stage1}); drop model.stage1_ckpt or '
                'train stage 2')
        self.check_grids()
        if with_response or init_bev_from_teacher:
            check_direction_convention(self.teacher, self.student)

    # ------------------------------------------------------------------
    def check_grids(self) -> None:
        """Teacher and student BEV maps must coincide cell for cell
        (:func:`check_bev_grids`)."""
        check_bev_grids(self.teacher, self.student, self.data_preprocessor)

    def train(self, mode: bool = True) -> 'CMKD':
        super().train(mode)
        self.teacher.eval()          # BN statistics and dropout frozen
        return self

    def init_weights(self) -> None:
        """Student init (its init_cfg), then the strict teacher load, then
        the stage-2 initialisation. Called by the runner before training
        only; ``--resume`` / ``load_from`` load over it."""
        self.student.init_weights()
        load_teacher_checkpoint(self.teacher, self.teacher_ckpt)
        self.teacher._is_init = True
        print_log(f'CMKD: teacher loaded strictly from {self.teacher_ckpt}',
                  logger='current')
        if self.init_bev_from_teacher:
            keys = self.student.load_bev_detector(
                teacher_bev_detector_state(self.teacher),
                source=f'the teacher ({self.teacher_ckpt})')
            print_log(f'CMKD: {len(keys)} student BEV backbone / neck / head '
                      'tensors copied from the teacher', logger='current')
            if self.with_stage1:
                self._load_stage1()

    def _load_stage1(self) -> None:
        from mmengine.runner import CheckpointLoader
        path = self.stage1_ckpt
        if not path or ('://' not in path and not osp.isfile(path)):
            raise FileNotFoundError(
                f'stage 2 needs the stage-1 checkpoint (got {path!r}): train '
                'stage 1 (the cmkd_bev_* config) first and pass '
                '--cfg-options model.stage1_ckpt=<work_dir>/epoch_N.pth')
        state = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        state = state.get('state_dict', state)
        own = {k[len('student.'):]: v for k, v in state.items()
               if k.startswith('student.')}
        branch = self.student.load_image_branch(own, source=path,
                                                prefix='student.')
        print_log(f'CMKD: image branch loaded from {path} {branch}',
                  logger='current')

    # ------------------------------------------------------------------
    def loss(self, batch_inputs_dict: dict,
             batch_data_samples: List[Det3DDataSample]) -> dict:
        """Distillation and student losses of one batch.

        The student computes its own losses (depth loss, ground-truth losses
        on the labeled frames with ``with_gt_loss``), its BEV map and, with
        ``with_response``, its head outputs in one pass
        (:meth:`~CMKDMono3D.loss_and_bev`); the frozen teacher gives its BEV
        map and head outputs on the same frames.

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W) and the points
                voxelised with the teacher's settings (``voxels``: dict of
                ``voxels`` (V, P, F), ``coors`` (V, 4), ``num_points``
                (V,)).
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``lidar2cam`` / ``cam2img`` metainfo, ``gt_depth`` (with a
                student ``loss_depth``), ``gt_instances_3d`` (with
                ``with_gt_loss`` or ``mask='gt_boxes'``) and optionally
                ``has_labels``.

        Returns:
            dict[str, Tensor]: ``distill.loss_bev``; ``student.loss_depth``
            with a student depth loss; ``distill.<head loss_by_teacher
            keys>`` with ``with_response``; ``student.<head losses>`` with
            ``with_gt_loss`` and at least one labeled frame.

        Raises:
            KeyError: without ``voxels`` in the inputs.
            ValueError: if the teacher's and student's BEV maps
                (B, C, Y, X) differ.
        """
        if 'voxels' not in batch_inputs_dict:
            raise KeyError('CMKD training needs the points of each sample: '
                           "pack 'points' in the train pipeline")
        dims = batch_inputs_dict['voxels']['voxels'].shape[-1]
        if self.teacher_point_dims not in (None, dims):
            raise ValueError(
                f'the teacher reads {self.teacher_point_dims} features per '
                f'point, the pipeline gives {dims}: load the points as the '
                "teacher's config does (e.g. LoadPointsFromMultiSweeps adds "
                "nuScenes' time lag as the fifth)")
        student = self.student
        with_head = self.with_response and student.bbox_head is not None
        # before the student's ground-truth losses: mmdet3d's target
        # assignment replaces gt_instances_3d.bboxes_3d by its tensor
        mask = self._box_mask_for(batch_data_samples,
                                  tuple(student.bev_grid.shape[1:]),
                                  batch_inputs_dict['imgs'].device)
        s_losses, bev, s_out = student.loss_and_bev(
            batch_inputs_dict, batch_data_samples,
            with_gt_loss=self.with_gt_loss, with_head_outputs=with_head)
        t_bev, t_out = teacher_bev_and_outputs(
            self.teacher, batch_inputs_dict['voxels'],
            len(batch_data_samples), with_head)
        if t_bev.shape != bev.shape:
            raise ValueError(f'teacher BEV map {tuple(t_bev.shape)} and '
                             f'student BEV map {tuple(bev.shape)} differ')
        s_losses = _prefixed(s_losses, 'student')
        # key order (and so the summation order of parse_losses) as before:
        # BEV, depth, response, ground truth
        losses = {'distill.loss_bev': self.loss_bev(bev, t_bev, mask)}
        if 'student.loss_depth' in s_losses:
            losses['student.loss_depth'] = s_losses.pop('student.loss_depth')
        if with_head:
            losses.update(_prefixed(
                student.bbox_head.loss_by_teacher(s_out, t_out), 'distill'))
        losses.update(s_losses)
        return losses

    def _box_mask(self, batch_data_samples: List[Det3DDataSample],
                  bev: torch.Tensor) -> Optional[torch.Tensor]:
        """Foreground weights (B, 1, Y, X) for ``loss_bev`` with
        ``mask='gt_boxes'`` on the grid of ``bev`` (B, C, Y, X), else
        None."""
        return self._box_mask_for(batch_data_samples, tuple(bev.shape[2:]),
                                  bev.device)

    def _box_mask_for(self, batch_data_samples: List[Det3DDataSample],
                      shape: tuple, device) -> Optional[torch.Tensor]:
        """:meth:`_box_mask` for a BEV map of (Y, X) ``shape``."""
        if getattr(self.loss_bev, 'mask', None) != 'gt_boxes':
            return None
        from ..losses import bev_box_mask
        grid = self.student.bev_grid
        masks = []
        for s in batch_data_samples:
            if 'gt_instances_3d' in s and 'bboxes_3d' in s.gt_instances_3d:
                b = s.gt_instances_3d.bboxes_3d
                boxes = getattr(b, 'tensor', b).to(device)
            else:
                boxes = torch.zeros(0, 7, device=device)
            masks.append(bev_box_mask(boxes, list(grid.point_cloud_range),
                                      list(grid.cell), shape))
        fg = torch.stack(masks)[:, None].float()
        bg = self.loss_bev.background_weight
        return fg + (1 - fg) * bg

    def predict(self, batch_inputs_dict: dict,
                batch_data_samples: List[Det3DDataSample]
                ) -> List[Det3DDataSample]:
        """Inference runs the student alone (images only).

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W); points, if
                packed, are ignored.
            batch_data_samples (list[Det3DDataSample]): B samples with
                ``lidar2cam`` / ``cam2img`` metainfo.

        Returns:
            list[Det3DDataSample]: The samples with ``pred_instances_3d``
            (``bboxes_3d`` (N, 7) LiDAR boxes, ``scores_3d`` (N,),
            ``labels_3d`` (N,)); see :meth:`CMKDMono3D.predict`.
        """
        return self.student.predict(batch_inputs_dict, batch_data_samples)

    def _forward(self, batch_inputs_dict: dict,
                 batch_data_samples: Optional[List[Det3DDataSample]] = None):
        """The student's raw outputs (``mode='tensor'``).

        Args:
            batch_inputs_dict (dict): ``imgs`` (B, 3, H, W).
            batch_data_samples (list[Det3DDataSample], optional): B samples
                with ``lidar2cam`` / ``cam2img`` metainfo.

        Returns:
            tuple | Tensor: The student head's ``forward`` outputs, or its
            BEV map (B, C, Y, X) without a head; see
            :meth:`CMKDMono3D._forward`.
        """
        return self.student._forward(batch_inputs_dict, batch_data_samples)

    def extract_feat(self, batch_inputs_dict, batch_data_samples=None):
        return self.student.extract_feat(batch_inputs_dict,
                                         batch_data_samples)
