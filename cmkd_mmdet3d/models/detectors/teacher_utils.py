"""Building, freezing, loading and describing the LiDAR teacher."""
import copy
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmdet3d.registry import MODELS
from mmengine.config import Config
from torch import Tensor, nn

from ...structures.geometry import grid_size


def model_cfg_from(spec: Union[str, dict], what: str = 'teacher') -> dict:
    """A model config from a model dict, a config path (``pkg::path``
    allowed, e.g. ``cmkd_mmdet3d::teachers/pointpillars/....py``) or
    ``dict(cfg_path=..., **overrides)``, the overrides merged into the
    file's ``model`` (``_delete_`` honoured; ``None`` removes a part)."""
    overrides = {}
    if isinstance(spec, dict) and 'cfg_path' in spec:
        overrides = {k: v for k, v in spec.items() if k != 'cfg_path'}
        spec = spec['cfg_path']
    if isinstance(spec, str):
        if '::' in spec:
            from mmengine.hub import get_config
            cfg = get_config(spec)
        else:
            if not osp.isfile(spec):
                raise FileNotFoundError(f'{what} config {spec} not found')
            cfg = Config.fromfile(spec)
        model = cfg.model
        if overrides:
            model = Config._merge_a_into_b(overrides, model)
        return model
    if not isinstance(spec, dict) or 'type' not in spec:
        raise TypeError(f'{what} must be a model config dict, '
                        "dict(cfg_path=...) or a config path, got "
                        f'{type(spec).__name__}')
    return spec


def distiller_preprocessor(data_preprocessor: Optional[dict],
                           student_cfg: dict, teacher_cfg: dict) -> dict:
    """The distiller's data preprocessor config: the student's image
    normalisation, voxelising the points as the teacher's own preprocessor.

    Args:
        data_preprocessor (dict, optional): The distiller's own config;
            None takes the student's (``student_cfg['data_preprocessor']``).
            A ``voxel_layer`` given here is kept as it is.
        student_cfg (dict): The student's model config.
        teacher_cfg (dict): The teacher's model config, overrides merged
            (:func:`model_cfg_from`); a teacher rebuilt on another range
            overrides ``data_preprocessor.voxel_layer`` there too.

    Returns:
        dict: ``data_preprocessor`` with ``voxel=True`` and the teacher's
        ``voxel_layer`` (and ``voxel_type``) where it has no ``voxel_layer``.

    Raises:
        ValueError: when neither config has a ``voxel_layer``, or when the
            preprocessor taken has no ``type``.
    """
    cfg = data_preprocessor if data_preprocessor is not None else \
        student_cfg.get('data_preprocessor')
    cfg = copy.deepcopy(dict(cfg or {}))
    if 'type' not in cfg:
        where = ('model.data_preprocessor' if data_preprocessor is not None
                 else f"the student's ({student_cfg.get('type')}) "
                 'data_preprocessor')
        raise ValueError(
            f'CMKD: {where} has no type: give model.data_preprocessor, e.g. '
            "dict(type='Det3DDataPreprocessor', mean=..., std=...)")
    if cfg.get('voxel_layer') is not None:
        return cfg
    teacher_pre = teacher_cfg.get('data_preprocessor') or {}
    if teacher_pre.get('voxel_layer') is None:
        raise ValueError(
            'CMKD: neither model.data_preprocessor nor the teacher config '
            f"({teacher_cfg.get('type')}) has a data_preprocessor.voxel_layer"
            ': set the one the teacher was trained with')
    cfg.update(voxel=True,
               voxel_layer=copy.deepcopy(dict(teacher_pre['voxel_layer'])))
    if 'voxel_type' in teacher_pre:
        cfg['voxel_type'] = teacher_pre['voxel_type']
    return cfg


def build_frozen_teacher(teacher: Union[str, dict]) -> nn.Module:
    """Build the teacher, without grad and in eval mode (before any
    optimizer exists)."""
    model = MODELS.build(model_cfg_from(teacher, 'teacher'))
    model.requires_grad_(False)
    return model.eval()


def teacher_point_dims(teacher_cfg: dict):
    """The number of point features the teacher's voxel encoder reads
    (``in_channels`` of a pillar / VFE encoder, ``num_features`` of
    ``HardSimpleVFE``; e.g. 4 for KITTI's x, y, z, intensity, 5 for
    nuScenes' with the sweeps' time lag), or None when its config does not
    say."""
    enc = teacher_cfg.get('pts_voxel_encoder') or \
        teacher_cfg.get('voxel_encoder') or {}
    for key in ('in_channels', 'num_features'):
        if enc.get(key) is not None:
            return int(enc[key])
    return None


def load_teacher_checkpoint(model: nn.Module, path: str) -> None:
    """Strict load; a missing file or a partial match is an error naming the
    file and the keys (never a silently half-random teacher)."""
    from mmengine.runner import CheckpointLoader
    if not path:
        raise ValueError('teacher_ckpt is required to train with CMKD: train '
                         'the teacher first (configs/teachers/...) and pass '
                         '--cfg-options model.teacher_ckpt=<its .pth>')
    if '://' not in path and not osp.isfile(path):
        raise FileNotFoundError(f'teacher checkpoint {path} not found')
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state)
                    if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or shapes:
        def few(keys):
            return ', '.join(keys[:5]) + (' ...' if len(keys) > 5 else '')
        raise ValueError(
            f'teacher checkpoint {path} does not match the teacher config: '
            f'{len(missing)} missing keys [{few(missing)}], '
            f'{len(unexpected)} unexpected [{few(unexpected)}], '
            f'{len(shapes)} with other shapes [{few(shapes)}]')
    model.load_state_dict(state, strict=True)


def _parts(teacher: nn.Module) -> Dict[str, nn.Module]:
    """The teacher's voxel encoder, middle encoder, BEV backbone, neck and
    head, for VoxelNet-style (``voxel_encoder``...) and MVX-style
    (``pts_voxel_encoder``...) detectors."""
    prefix = 'pts_' if hasattr(teacher, 'pts_voxel_encoder') else ''
    names = ('voxel_encoder', 'middle_encoder', 'backbone', 'neck',
             'bbox_head')
    parts = {n: getattr(teacher, prefix + n, None) for n in names}
    if parts['voxel_encoder'] is None or parts['middle_encoder'] is None:
        raise TypeError(f'{type(teacher).__name__} is not a voxel-based '
                        'LiDAR detector (VoxelNet / CenterPoint style)')
    parts['prefix'] = prefix
    return parts


def teacher_head(teacher: nn.Module) -> Optional[nn.Module]:
    """The teacher's dense head (``bbox_head`` or ``pts_bbox_head``)."""
    return _parts(teacher)['bbox_head']


def teacher_bev_and_outputs(teacher: nn.Module, voxel_dict: dict,
                            batch_size: int, with_head: bool
                            ) -> Tuple[Tensor, object]:
    """The teacher's BEV map (B, C, Y, X) before its BEV backbone, and its
    raw dense head outputs (None unless ``with_head``)."""
    p = _parts(teacher)
    with torch.no_grad():
        feats = p['voxel_encoder'](voxel_dict['voxels'],
                                   voxel_dict['num_points'],
                                   voxel_dict['coors'])
        bev = p['middle_encoder'](feats, voxel_dict['coors'], batch_size)
        if not with_head:
            return bev, None
        x = p['backbone'](bev)
        if p['neck'] is not None:
            x = p['neck'](x)
        return bev, p['bbox_head'](x)


def teacher_bev_grid(teacher: nn.Module, point_cloud_range: Sequence[float],
                     voxel_size: Sequence[float]) -> dict:
    """(C, Y, X), cell size and x/y range of the teacher's BEV map for the
    voxel settings of the data preprocessor."""
    p = _parts(teacher)
    enc = p['middle_encoder']
    name = type(enc).__name__
    if hasattr(enc, 'sparse_shape'):                       # SparseEncoder
        ny, nx = enc.sparse_shape[1:]
        stride = 8
    elif hasattr(enc, 'ny') and hasattr(enc, 'nx'):        # pillar scatter
        ny, nx = enc.ny, enc.nx
        stride = getattr(enc, 'stride', 1)
    else:
        raise TypeError(f'cannot tell the BEV grid of middle encoder {name}')
    backbone = p['backbone']
    first = next(m for m in backbone.modules() if isinstance(m, nn.Conv2d))
    return dict(
        shape=(first.in_channels, -(-ny // stride), -(-nx // stride)),
        cell=(voxel_size[0] * stride, voxel_size[1] * stride),
        range=(point_cloud_range[0], point_cloud_range[1],
               point_cloud_range[3], point_cloud_range[4]),
        voxel_grid=(ny, nx),
        # (Y, X), rounded like the reference (the CMKD grid check compares)
        expected_voxel_grid=grid_size(point_cloud_range, voxel_size, dims=2,
                                      tolerance=None)[::-1],
        encoder=name)


def teacher_bev_detector_state(teacher: nn.Module) -> Dict[str, dict]:
    """The teacher's BEV backbone / neck / head state dicts, keyed by the
    student's module names (``backbone`` / ``neck`` / ``bbox_head``; the
    teacher's ``pts_*`` for CenterPoint), None for a part it lacks: what
    stage 2 initialises the student's BEV detector from
    (``CMKDMono3D.load_bev_detector``)."""
    p = _parts(teacher)
    return {name: (p[name].state_dict() if p[name] is not None else None)
            for name in ('backbone', 'neck', 'bbox_head')}
