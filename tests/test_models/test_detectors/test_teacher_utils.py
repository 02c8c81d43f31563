"""cmkd_mmdet3d.models.detectors.teacher_utils: building, freezing and
describing the LiDAR teacher."""
import os

import pytest
import torch
from _helpers.models import _registry
from conftest import REPO_ROOT

TEACHER = os.path.join(
    REPO_ROOT, 'configs', 'teachers', 'pointpillars',
    'pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')


def test_frozen_teacher_config_overrides_and_bev_detector_state():
    from cmkd_mmdet3d.models.detectors.teacher_utils import (
        build_frozen_teacher, model_cfg_from, teacher_bev_detector_state)
    _registry()
    torch.manual_seed(0)
    # dict(cfg_path=..., **overrides): merged into the file's model, None
    # removing a part
    teacher = build_frozen_teacher(dict(
        cfg_path=TEACHER, backbone=dict(out_channels=[16, 64]), neck=None))
    assert not teacher.training
    assert not any(m.training for m in teacher.modules())
    params = list(teacher.parameters())
    assert params and not any(p.requires_grad for p in params)
    assert [b[0].out_channels for b in teacher.backbone.blocks] == [16, 64]
    assert teacher.backbone.blocks[0][0].in_channels == 64
    # the student's names, the teacher's tensors (no copies of other parts)
    state = teacher_bev_detector_state(teacher)
    assert sorted(state) == ['backbone', 'bbox_head', 'neck']
    assert state['neck'] is None
    full = teacher.state_dict()
    for name in ('backbone', 'bbox_head'):
        part = state[name]
        expected = {k[len(name) + 1:] for k in full
                    if k.startswith(name + '.')}
        assert set(part) == expected, name
        for k, v in part.items():
            assert torch.equal(v, full[f'{name}.{k}'])
    assert 'voxel_encoder' not in state
    with pytest.raises(FileNotFoundError, match='teacher config /nope.py'):
        model_cfg_from('/nope.py')
    with pytest.raises(TypeError, match='student must be .* got list'):
        model_cfg_from([1], 'student')


def test_distiller_preprocessor_takes_the_teachers_voxelisation():
    """The distiller's preprocessor: the student's image settings plus the
    teacher's voxel settings (overrides merged), unless it sets its own."""
    from mmengine.config import Config

    from cmkd_mmdet3d.models.detectors.teacher_utils import (
        distiller_preprocessor, model_cfg_from)
    student = dict(type='S', data_preprocessor=dict(
        type='Det3DDataPreprocessor', mean=[1, 2, 3], std=[4, 5, 6],
        bgr_to_rgb=True))
    teacher = model_cfg_from(dict(
        cfg_path=TEACHER, data_preprocessor=dict(voxel_layer=dict(
            point_cloud_range=[0, -4, -3, 8, 4, 1]))), 'teacher')
    own = Config.fromfile(TEACHER).model.data_preprocessor.voxel_layer
    pre = distiller_preprocessor(None, student, teacher)
    assert pre == dict(
        type='Det3DDataPreprocessor', mean=[1, 2, 3], std=[4, 5, 6],
        bgr_to_rgb=True, voxel=True,
        voxel_layer=dict(own, point_cloud_range=[0, -4, -3, 8, 4, 1]))
    # a copy: neither the student's nor the teacher's config changes
    pre['voxel_layer']['max_num_points'] = -1
    pre['mean'][0] = -1
    assert teacher['data_preprocessor']['voxel_layer']['max_num_points'] \
        == own['max_num_points']
    assert 'voxel' not in student['data_preprocessor']
    assert student['data_preprocessor']['mean'] == [1, 2, 3]
    # the teacher's voxel_type comes with its voxel_layer
    dyn = dict(teacher, data_preprocessor=dict(
        teacher['data_preprocessor'], voxel_type='dynamic'))
    assert distiller_preprocessor(None, student, dyn)['voxel_type'] == \
        'dynamic'
    # a voxel_layer of the distiller's own is kept as given
    given = dict(type='Det3DDataPreprocessor', voxel=True,
                 voxel_layer=dict(max_num_points=3))
    assert distiller_preprocessor(given, student, teacher) == given
    # neither has one: refused, naming the key
    with pytest.raises(ValueError, match='CMKD: neither model.data_'
                       'preprocessor nor the teacher config .*voxel_layer'):
        distiller_preprocessor(None, student, dict(type='T'))
    # a preprocessor without a type is refused before mmengine sees it
    with pytest.raises(ValueError, match="CMKD: the student's \\(S\\) "
                       'data_preprocessor has no type'):
        distiller_preprocessor(None, dict(type='S'), teacher)
    with pytest.raises(ValueError, match='CMKD: model.data_preprocessor '
                       'has no type'):
        distiller_preprocessor(dict(mean=[0, 0, 0]), student, teacher)
