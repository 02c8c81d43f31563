"""tools/infer.py: a folder of images calibrated by intrinsics + camera
height, and mmdet3d's KITTI sample frame with its calibration through the
KITTI student."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from conftest import REPO_ROOT, SHARED_SAMPLES
from _helpers.models import STUDENT as STUDENT_CFG, save_random_student
from _helpers.tools import load_tool

KITTI_STUDENT_CFG = osp.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_kitti-3d-3class.py')


@pytest.fixture(scope='module')
def student_ckpts(tmp_path_factory):
    return save_random_student(tmp_path_factory.mktemp('ckpts'))


def test_infer_tool_with_intrinsics_and_camera_height(synthetic_world,
                                                      student_ckpts, tmp_path,
                                                      capsys):
    """The command line on a folder, calibrated by intrinsics + height."""
    from cmkd_mmdet3d.testing.synthetic.geometry import KITTI_P2
    _, student, _ = student_ckpts
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for name in ('000004.png', '000005.png'):
        os.symlink(osp.join(synthetic_world, 'training', 'image_2', name),
                   folder / name)
    tool = load_tool('infer.py')
    out = str(tmp_path / 'out')
    intr = [KITTI_P2[0, 0], KITTI_P2[1, 1], KITTI_P2[0, 2], KITTI_P2[1, 2]]
    res = tool.main([STUDENT_CFG, student, str(folder), '--intrinsics',
                     *map(str, intr), '--cam-height', '1.65', '--out-dir',
                     out, '--cfg-options', 'model.test_cfg.score_thr=0.0'])
    assert [p['name'] for p in res['predictions']] == ['000004', '000005']
    assert sorted(os.listdir(osp.join(out, 'labels'))) == [
        '000004.txt', '000005.txt']
    assert sorted(os.listdir(osp.join(out, 'vis'))) == [
        '000004.png', '000005.png']
    assert f'label files in {out}/labels' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.parse_args([STUDENT_CFG, student, str(folder), '--intrinsics',
                         '1', '1', '1', '1'])  # no --cam-height


@pytest.mark.skipif(not osp.isdir(osp.join(SHARED_SAMPLES, 'kitti')),
                    reason='mmdet3d sample frames not available')
def test_kitti_sample_frame_with_the_kitti_student(tmp_path):
    """The KITTI student (R50, 120 bins, full resolution; random weights)
    on mmdet3d's KITTI sample frame 000000 with a calib file made from its
    info: label lines and a picture come out."""
    import mmengine
    from mmengine.config import Config
    from _helpers.models import _registry
    MODELS = _registry()
    root = osp.join(SHARED_SAMPLES, 'kitti')
    info = mmengine.load(osp.join(root, 'kitti_infos_train.pkl'))[
        'data_list'][0]
    cam = info['images']['CAM2']
    calib = tmp_path / '000000.txt'
    l2c = np.asarray(cam['lidar2cam'])
    calib.write_text(
        'P2: ' + ' '.join(map(str, np.asarray(cam['cam2img'])[:3].ravel()))
        + '\nR0_rect: 1 0 0 0 1 0 0 0 1\nTr_velo_to_cam: '
        + ' '.join(map(str, l2c[:3].ravel())) + '\n')
    cfg = Config.fromfile(KITTI_STUDENT_CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'kitti_student.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    del model
    out = str(tmp_path / 'out')
    res = load_tool('infer.py').main([
        KITTI_STUDENT_CFG, ckpt,
        osp.join(root, 'training', 'image_2', '000000.png'), '--calib',
        str(calib), '--out-dir', out, '--cfg-options',
        'model.test_cfg.score_thr=0.0', 'model.test_cfg.max_num=5'])
    (pred, ) = res['predictions']
    assert len(pred['kitti_lines']) == len(pred['scores_3d']) > 0
    assert open(osp.join(out, 'labels', '000000.txt')).read().splitlines() \
        == pred['kitti_lines']
    img = cv2.imread(osp.join(root, 'training', 'image_2', '000000.png'))
    pic = cv2.imread(osp.join(out, 'vis', '000000.png'))
    assert pic.shape[1] == img.shape[1] and pic.shape[0] > img.shape[0]
