"""tools/analysis_tools/show_bev_features.py."""
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


def test_parse_students():
    tool = _tool()
    assert tool.parse_students(['student + CMKD=a/b.pth', 'c/d.pth']) == [
        ('student + CMKD', 'a/b.pth'), ('d', 'c/d.pth')]
    with pytest.raises(ValueError, match='twice'):
        tool.parse_students(['x=a.pth', 'x=b.pth'])
    with pytest.raises(ValueError, match="teacher is the LiDAR teacher's"):
        tool.parse_students(['teacher=a.pth'])


def test_split_info_file_follows_the_config_s_info_file():
    tool = _tool()
    assert tool.split_info_file('kitti_infos_val.pkl', 'train') == \
        'kitti_infos_train.pkl'
    assert tool.split_info_file('waymo_infos_val.pkl', 'val') == \
        'waymo_infos_val.pkl'
    assert tool.split_info_file('sub/nuscenes_infos_val.pkl', 'train') == \
        osp.join('sub', 'nuscenes_infos_train.pkl')
    # only the trailing split is replaced
    assert tool.split_info_file('val_infos_val.pkl', 'test') == \
        'val_infos_test.pkl'
    with pytest.raises(ValueError, match='infos.pkl'):
        tool.split_info_file('infos.pkl', 'val')


def _random_models(tool, tmp_path):
    """A random teacher and student of the synthetic configs, saved as
    mmengine checkpoints: (teacher, student, teacher ckpt, student ckpt)."""
    from mmdet3d.registry import MODELS
    from mmengine.config import Config
    tool._init_registries()
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(TEACHER_CFG).model)
    student = MODELS.build(Config.fromfile(STUDENT_CFG).model)
    t_ckpt, s_ckpt = str(tmp_path / 'teacher.pth'), str(tmp_path / 's.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, t_ckpt)
    torch.save({'state_dict': student.state_dict(), 'meta': {}}, s_ckpt)
    return teacher, student, t_ckpt, s_ckpt


def test_show_bev_features_end_to_end(synthetic_world, tmp_path, capsys):
    tool = _tool()
    teacher, student, t_ckpt, s_ckpt = _random_models(tool, tmp_path)
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
    # one threshold for all: each panel draws its boxes scored >= 0.3
    drawn = res['per_frame'][0]['drawn']
    assert list(drawn) == ['teacher', 'student + CMKD', 'student alone']
    assert drawn['student + CMKD'] == drawn['student alone']
    assert '| teacher ' in index and 'from score 0.3' in index


def test_show_bev_features_student_score_threshold(synthetic_world, tmp_path,
                                                   monkeypatch):
    """--student-score-thr draws the students' boxes from their own
    threshold, the teacher's from --score-thr: the counts are those of the
    predictions at each threshold, counted here from the predictions."""
    tool = _tool()
    _, _, t_ckpt, s_ckpt = _random_models(tool, tmp_path)
    scores = {}
    real = tool.frame_outputs

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        scores.update({n: p.pred_instances_3d.scores_3d.clone()
                       for n, p in out[2].items()})
        return out

    monkeypatch.setattr(tool, 'frame_outputs', spy)
    res = tool.main([
        '--teacher-config', TEACHER_CFG, '--teacher-ckpt', t_ckpt,
        '--student-config', STUDENT_CFG, '--out-dir', str(tmp_path / 'o'),
        '--data-root', synthetic_world, '--split', 'val', '--frames', '0',
        '--students', f's={s_ckpt}', '--score-thr', '2',
        '--student-score-thr', '0'])
    drawn = res['per_frame'][0]['drawn']
    # every student box (scores >= 0), no teacher box (scores < 2)
    assert len(scores['s']) > 0
    assert drawn == {'teacher': 0, 's': len(scores['s'])}
    index = open(res['index']).read()
    assert 'from score 2 (teacher), >= 0 (students)' in index
    assert f"teacher 0, s {len(scores['s'])}" in index
