"""tools/kitti_submission.py on the synthetic world's test split (frames
without labels in testing/): the zip holds one file per test frame at its
root, and its boxes are the ones the student predicts for those images
(through the inferencer, an independent path)."""
import os.path as osp
import zipfile

import numpy as np
import pytest

from _helpers.models import STUDENT as STUDENT_CFG, save_calibrated_student
from _helpers.tools import load_tool


@pytest.fixture(scope='module')
def student(tmp_path_factory, synthetic_world):
    """A random student with BN statistics from the test frames: its scores
    have a spread, so the Runner and the inferencer keep the same top boxes
    (with the initial statistics every score is within 1e-3 of 0.5 and
    float rounding reorders the ties at the cut; with statistics from other
    frames, sizes run to 1e6 m and scores to 0.9999)."""
    from _helpers.models import student_test_cfg
    from cmkd_mmdet3d.evaluation.kitti_submission import submission_config
    tmp = tmp_path_factory.mktemp('ckpts')
    test_split = submission_config(student_test_cfg(synthetic_world),
                                   str(tmp)).test_dataloader.dataset
    return save_calibrated_student(tmp, synthetic_world, test_split)[1]


def test_submission_zip_from_a_checkpoint(synthetic_world, student,
                                          tmp_path, capsys):
    opts = ['model.test_cfg.score_thr=0.0', 'model.test_cfg.max_num=20']
    out = str(tmp_path / 'sub')
    res = load_tool('kitti_submission.py').main([
        STUDENT_CFG, student, '--out-dir', out, '--cfg-options',
        f'test_dataloader.dataset.data_root={synthetic_world}/', *opts])
    zpath = osp.join(out, 'kitti_test_submission.zip')
    assert res['zip'] == zpath and res['frames'] == 2
    assert 'the KITTI server expects 7518 frames' in capsys.readouterr().out
    with zipfile.ZipFile(zpath) as zf:
        assert sorted(zf.namelist()) == ['000000.txt', '000001.txt']
        got = {n[:6]: zf.read(n).decode().splitlines() for n in zf.namelist()}
    assert res['boxes'] == sum(len(v) for v in got.values()) > 0
    # the same student on the test images through the inferencer
    from mmengine.config import Config

    from cmkd_mmdet3d.apis import CMKDMono3DInferencer, calib_for_image
    cfg = Config.fromfile(STUDENT_CFG)
    cfg.model.test_cfg.score_thr = 0.0
    cfg.model.test_cfg.max_num = 40     # the zip's 20, and a margin
    inferencer = CMKDMono3DInferencer(cfg, student, device='cpu',
                                      show_progress=False)
    test = osp.join(synthetic_world, 'testing')
    for frame, lines in got.items():
        img = osp.join(test, 'image_2', frame + '.png')
        pred = inferencer(dict(img=img, **calib_for_image(
            img, osp.join(test, 'calib'))))['predictions'][0]
        ours = [ln.split() for ln in pred['kitti_lines']]
        # KittiMetric keeps the boxes in the image and in its LiDAR range;
        # each of them is one of the inferencer's, same class, same 3D box
        # (h w l x y z ry) and score
        for line in lines:
            f = line.split()
            assert len(f) == 16
            match = [o for o in ours if o[0] == f[0] and np.allclose(
                np.float64(o[8:16]), np.float64(f[8:16]), rtol=1e-4,
                atol=2e-3)]
            assert match, (frame, line)
