"""tools/analysis_tools/show_bev_features.py and the BEV feature numerics of
cmkd_mmdet3d.visualization.bev_features."""
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT
from _helpers.tools import load_tool

TEACHER_CFG = osp.join(
    REPO_ROOT, 'configs', 'teachers', 'pointpillars',
    'pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')
STUDENT_CFG = osp.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


def _tool():
    return load_tool('analysis_tools', 'show_bev_features.py')


# (C=2, Y=1, X=3): cells (1, 0) / (0, 2), (3, 4) / (3, 4), (0, 0) / (1, 1)
A = np.array([[[1.0, 3.0, 0.0]], [[0.0, 4.0, 0.0]]])
B = np.array([[[0.0, 3.0, 1.0]], [[2.0, 4.0, 1.0]]])


def test_channel_norm_by_hand():
    from cmkd_mmdet3d.visualization import channel_norm
    np.testing.assert_allclose(channel_norm(A), [[1.0, 5.0, 0.0]])
    # batched and from a tensor
    out = channel_norm(torch.from_numpy(np.stack([A, B])))
    assert out.shape == (2, 1, 3)
    np.testing.assert_allclose(out[1], [[2.0, 5.0, math.sqrt(2)]])


def test_cosine_map_by_hand():
    from cmkd_mmdet3d.visualization import cosine_map, mean_cosine
    cos = cosine_map(A, B)
    assert cos.shape == (1, 3)
    # orthogonal, identical, undefined (a zero vector)
    np.testing.assert_allclose(cos[0, :2], [0.0, 1.0], atol=1e-12)
    assert np.isnan(cos[0, 2])
    np.testing.assert_allclose(cosine_map(A, -A)[0, :2], [-1.0, -1.0])
    mean, frac = mean_cosine(cos)
    assert mean == pytest.approx(0.5) and frac == pytest.approx(2 / 3)
    assert math.isnan(mean_cosine(cosine_map(A * 0, B))[0])
    with pytest.raises(ValueError, match='cell by cell'):
        cosine_map(A, B[:, :, :2])


def test_mse_per_cell_by_hand_and_as_the_bev_loss():
    from cmkd_mmdet3d.models.losses import BEVFeatureDistillLoss
    from cmkd_mmdet3d.visualization import mean_mse, mse_per_cell
    # ((1-0)^2 + (0-2)^2) / 2, 0, (1 + 1) / 2
    np.testing.assert_allclose(mse_per_cell(A, B), [[2.5, 0.0, 1.0]])
    assert mean_mse(A, B) == pytest.approx(3.5 / 3)
    # the teacher against itself
    torch.manual_seed(0)
    t = torch.randn(64, 7, 9)
    assert mean_mse(t, t) == 0.0
    np.testing.assert_array_equal(mse_per_cell(t, t), np.zeros((7, 9)))
    # the mean is CMKD's BEV loss of the frame before its weight
    s = torch.randn(64, 7, 9)
    loss = BEVFeatureDistillLoss(loss_weight=1.0)(s[None], t[None])
    assert mean_mse(s, t) == pytest.approx(float(loss), rel=1e-5)


def test_bev_to_display_orientation():
    from cmkd_mmdet3d.visualization import bev_to_display, display_extent
    m = np.arange(6.0).reshape(2, 3)          # (Y=2, X=3)
    d = bev_to_display(m)
    assert d.shape == (3, 2)
    # top left: largest x (forward, up) and largest y (left, on the left)
    assert d[0, 0] == m[1, 2] and d[-1, -1] == m[0, 0]
    assert d[0, -1] == m[0, 2]                # far x, rightmost (-y)
    assert display_extent((2, -30, 46, 30)) == (30, -30, 2, 46)


def test_parse_students():
    tool = _tool()
    assert tool.parse_students(['student + CMKD=a/b.pth', 'c/d.pth']) == [
        ('student + CMKD', 'a/b.pth'), ('d', 'c/d.pth')]
    with pytest.raises(ValueError, match='twice'):
        tool.parse_students(['x=a.pth', 'x=b.pth'])


def test_show_bev_features_end_to_end(synthetic_world, tmp_path, capsys):
    from mmdet3d.registry import MODELS
    from mmengine.config import Config
    tool = _tool()
    tool._init_registries()
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(TEACHER_CFG).model)
    student = MODELS.build(Config.fromfile(STUDENT_CFG).model)
    t_ckpt, s_ckpt = str(tmp_path / 'teacher.pth'), str(tmp_path / 's.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, t_ckpt)
    torch.save({'state_dict': student.state_dict(), 'meta': {}}, s_ckpt)
    # a CMKD (distiller) checkpoint: its student is loaded
    c_ckpt = str(tmp_path / 'cmkd.pth')
    state = {f'student.{k}': v for k, v in student.state_dict().items()}
    state.update({f'teacher.{k}': v
                  for k, v in teacher.state_dict().items()})
    torch.save({'state_dict': state, 'meta': {}}, c_ckpt)
    out = str(tmp_path / 'out')
    base = ['--teacher-config', TEACHER_CFG, '--teacher-ckpt', t_ckpt,
            '--student-config', STUDENT_CFG, '--out-dir', out,
            '--data-root', synthetic_world, '--split', 'val']

    # bad input fails early, naming the file / the frames
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        tool.main(base + ['--students', f'x={tmp_path}/missing.pth'])
    with pytest.raises(IndexError, match=r'kitti_infos_val.pkl has 2'):
        tool.main(base + ['--students', s_ckpt, '--frames', '5'])

    res = tool.main(base + ['--students', f'student + CMKD={c_ckpt}',
                            f'student alone={s_ckpt}', '--frames', '1'])
    printed = capsys.readouterr().out
    assert len(res['files']) == 1
    png = res['files'][0]
    assert osp.isfile(png) and osp.basename(png).startswith(
        'bev_features_0001_')
    assert sorted(os.listdir(out)) == sorted([osp.basename(png),
                                              'index.md'])
    import cv2
    picture = cv2.imread(png)
    h, w = picture.shape[:2]
    # 5 feature panels (teacher, 2 students, 2 cosine maps) in a row
    assert 0 < h < w
    # the same random student twice: the same maps, the same distances
    mse = res['mse']
    assert list(mse) == ['student + CMKD', 'student alone']
    assert mse['student + CMKD'] == pytest.approx(mse['student alone'])
    assert all(np.isfinite(v) and v > 0 for v in mse.values())
    assert png in printed and 'student alone:' in printed
    index = open(res['index']).read()
    assert osp.basename(png) in index and 'student + CMKD' in index
