"""cmkd_mmdet3d.testing.synthetic.writer: the KITTI layouts on disk (calib
files, infos, resumable generation)."""
import os

import numpy as np
import pytest

from cmkd_mmdet3d.structures import read_kitti_calib
from cmkd_mmdet3d.testing.synthetic import calibration_for_date
from cmkd_mmdet3d.testing.synthetic.geometry import KITTI_P2


def test_calibration_round_trip_through_mmdet3d_infos(synthetic_world):
    """The calib/*.txt files parse back to our matrices, and mmdet3d's own
    converter derived the same lidar2cam / cam2img for its infos."""
    import mmengine
    infos = mmengine.load(os.path.join(synthetic_world,
                                       'kitti_infos_train.pkl'))
    dates = ['2011_09_26', '2011_09_28', '2011_09_29', '2011_09_30']
    for idx, info in enumerate(infos['data_list']):
        calib = calibration_for_date(dates[idx])
        txt = read_kitti_calib(os.path.join(synthetic_world, 'training',
                                            'calib', f'{idx:06d}.txt'))
        np.testing.assert_allclose(txt['P2'], calib.P2, rtol=1e-9)
        cam2 = info['images']['CAM2']
        np.testing.assert_allclose(np.array(cam2['lidar2cam']),
                                   calib.lidar2cam, atol=1e-6)
        np.testing.assert_allclose(np.array(cam2['cam2img'])[:3],
                                   calib.P2, atol=1e-4)
    assert np.allclose(calibration_for_date('2011_09_26').P2, KITTI_P2)


def test_resume_refuses_other_settings(tmp_path):
    from cmkd_mmdet3d.testing.synthetic import generate_world
    out = str(tmp_path / 'w')
    generate_world(out, 1, 0, seed=1, img_shape=(96, 320), num_beams=8,
                   make_infos=False)
    first = (tmp_path / 'w' / 'training' / 'velodyne' /
             '000000.bin').read_bytes()
    # same settings: finished frames are kept as they are
    generate_world(out, 2, 0, seed=1, img_shape=(96, 320), num_beams=8,
                   make_infos=False)
    assert (tmp_path / 'w' / 'training' / 'velodyne' /
            '000000.bin').read_bytes() == first
    assert (tmp_path / 'w' / 'training' / 'label_2' / '000001.txt').exists()
    with pytest.raises(ValueError, match='seed: 1 != 2'):
        generate_world(out, 2, 0, seed=2, img_shape=(96, 320), num_beams=8,
                       make_infos=False)
