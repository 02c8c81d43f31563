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
