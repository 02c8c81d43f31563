"""Settings refused when the model is built (models.utils.config_checks):
depth bins, voxel grids, module, key and value named."""
import pytest
import torch
from _helpers.models import STAGE1, STUDENT, _build, _cfg, _registry


def test_depth_bins_and_depth_net_refuse_bad_settings():
    from cmkd_mmdet3d.models.utils import bin_depths, bin_edges
    with pytest.raises(ValueError, match=r'bin_depths: depth_min \(5.0\) must '
                       r'be below depth_max \(2.0\)'):
        bin_depths(torch.ones(3), 'LID', 5.0, 2.0, 10)
    with pytest.raises(ValueError, match='bin_edges: num_bins must be a '
                       'positive integer, got 0'):
        bin_edges('UD', 2.0, 46.8, 0)
    with pytest.raises(ValueError, match='depth_max must be a finite number '
                       'of metres, got nan'):
        bin_edges('UD', 2.0, float('nan'), 4)
    cfg = _cfg(STUDENT)
    with pytest.raises(ValueError, match='DepthDistributionNet: num_bins must'
                       ' be a positive integer, got 0'):
        _registry().build(dict(cfg.model.img_backbone, num_bins=0))


def test_student_and_distiller_grids_refused_at_build():
    cfg = _cfg(STUDENT)
    c = cfg.model.lift_neck.out_channels
    with pytest.raises(ValueError,
                       match=rf'backbone.in_channels \({c}\) differs from '
                       rf'lift_neck.out_channels \({c + 8}\)'):
        _build(STUDENT, lift_neck=dict(cfg.model.lift_neck,
                                       out_channels=c + 8))
    cfg = _cfg(STAGE1)
    # CMKD's default preprocessor voxelises as the teacher's; set one here
    from cmkd_mmdet3d.models.detectors.teacher_utils import model_cfg_from
    vl = model_cfg_from(cfg.model.teacher).data_preprocessor.voxel_layer
    with pytest.raises(ValueError,
                       match=r'CMKD: data_preprocessor.voxel_layer.voxel_size'
                       r'\[0\] \(x\) must be a positive number of metres, '
                       'got 0'):
        _build(STAGE1, data_preprocessor=dict(
            cfg.model.student.data_preprocessor, voxel=True,
            voxel_layer=dict(vl, voxel_size=[0, 0.32, 4])))
    with pytest.raises(ValueError,
                       match=r'CMKD: data_preprocessor.voxel_layer.'
                       r'point_cloud_range x extent 44.7 m .* not a multiple'
                       r' of data_preprocessor.voxel_layer.voxel_size\[0\]'):
        _build(STAGE1, data_preprocessor=dict(
            cfg.model.student.data_preprocessor, voxel=True,
            voxel_layer=dict(vl, point_cloud_range=[2.1, -30.08, -3, 46.8,
                                                    30.08, 1])))


def test_teacher_and_student_grids_that_tile_but_differ_are_refused():
    """Both grids valid on their own (whole numbers of voxels) but not the
    same: the distiller's check names both."""
    MODELS = _registry()
    cfg = _cfg(STAGE1)
    student = cfg.model.student
    if isinstance(student, str):
        student = cfg.model.student = dict(cfg_path=student)
    # a full student dict or dict(cfg_path=..., **overrides)
    student['lift_neck'] = dict(student.get('lift_neck') or {},
                                voxel_size=[0.64, 0.64, 0.4])
    with pytest.raises(ValueError,
                       match=r'teacher \(C, Y, X\) \(64, 188, 140\).*'
                       r'student \(C, Y, X\) \(64, 94, 70\)'):
        MODELS.build(cfg.model)
