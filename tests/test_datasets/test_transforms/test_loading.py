"""LoadCalibratedImage: an image file or array with its calibration becomes
the results a KITTI test sample gives the pipeline; what cannot be read or
does not fit is refused, naming the image."""
import cv2
import numpy as np
import pytest

from cmkd_mmdet3d.datasets.transforms import LoadCalibratedImage
from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date


@pytest.fixture(scope='module')
def calib():
    cal = calibration_for_date('2011_09_26')
    return dict(lidar2cam=np.asarray(cal.lidar2cam),
                cam2img=np.asarray(cal.cam2img)[:3])


def test_file_and_array_give_the_same_results(tmp_path, calib):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (375, 1242, 3), dtype=np.uint8)
    path = str(tmp_path / '000042.png')
    cv2.imwrite(path, img)
    load = LoadCalibratedImage()
    a = load(dict(img=path, index=3, **calib))
    b = load(dict(img=img, name='000042', **calib))
    assert np.array_equal(a['img'], img) and np.array_equal(b['img'], img)
    assert a['img_path'] == path and a['sample_idx'] == 3
    assert a['img_shape'] == a['ori_shape'] == (375, 1242)
    assert a['cam2img'].shape == (4, 4) and a['cam2img'][3, 3] == 1
    np.testing.assert_allclose(a['lidar2img'],
                               a['cam2img'] @ a['lidar2cam'], rtol=1e-6)
    assert a['box_type_3d'].__name__ == 'LiDARInstance3DBoxes'


def test_bad_input_is_refused_by_name(tmp_path, calib):
    load = LoadCalibratedImage()
    missing = str(tmp_path / 'nowhere.png')
    with pytest.raises(ValueError, match='cannot read image .*nowhere.png'):
        load(dict(img=missing, **calib))
    text = tmp_path / 'text.png'
    text.write_text('not an image')
    with pytest.raises(ValueError, match='cannot read image .*text.png'):
        load(dict(img=str(text), **calib))
    with pytest.raises(ValueError, match=r'must be \(H, W, 3\)'):
        load(dict(img=np.zeros((375, 1242), np.uint8), **calib))
    # KITTI's P2 with a half-size image: the principal point is off-centre
    small = np.zeros((188, 621, 3), np.uint8)
    with pytest.raises(ValueError, match='image small'):
        load(dict(img=small, name='small', **calib))
