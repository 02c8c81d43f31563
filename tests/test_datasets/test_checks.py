"""Every bad input is refused or skipped, nothing silently wrong, and every
error names the file, the key or the frame:

* non-finite point features are dropped (counted, logged once per file) or
  refused when no point is finite;
* an image whose size is not its info's, or that its calibration does not
  fit, is refused;
* a depth target whose shape is not the image's at its stride is refused,
  and its stride travels to the model as the meta key ``depth_stride``;
* zero-byte PNGs, ``.bin`` files that are not N x load_dim float32, empty /
  truncated / foreign info pickles and class-name typos name the file or
  the class (:mod:`cmkd_mmdet3d.datasets.checks`);
* ``KittiRawDataset`` skips zero-byte PNGs and singular calibrations and
  records them; ``create_data.py kitti-raw`` fails when no frame is usable;
* a 3D box with a size <= 0 in a real ``label_2`` (mmdet3d's
  ``KittiDataset`` reads it unchecked) is refused before packing.
"""
import os

import cv2
import numpy as np
import pytest
import torch

from cmkd_mmdet3d.testing.synthetic.geometry import (KITTI_P2,
                                                     calibration_for_date)
from _helpers.datasets import _build, _foreign_infos, _kitti, _pipeline


CAL = calibration_for_date('2011_09_29')


L2C = CAL.lidar2cam


H, W = 375, 1242


@pytest.fixture()
def input_checks(monkeypatch):
    """The wrappers of :func:`install_input_checks`, undone afterwards."""
    from mmcv.transforms import LoadImageFromFile
    from mmdet3d.datasets import Det3DDataset
    from mmdet3d.datasets.transforms.loading import (LoadImageFromFileMono3D,
                                                     LoadPointsFromFile)

    from cmkd_mmdet3d.datasets.checks import install_input_checks
    for cls, name in ((LoadImageFromFile, 'transform'),
                      (LoadImageFromFileMono3D, 'transform'),
                      (LoadPointsFromFile, '_load_points'),
                      (Det3DDataset, 'load_data_list'),
                      (Det3DDataset, '__init__')):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    install_input_checks()
    assert not install_input_checks()          # idempotent


# ---------------------------------------------------------------------------
# 1. non-finite point features
def _fov_points(n=200, seed=0):
    from mmdet3d.structures import LiDARPoints
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.uniform(8, 40, n), rng.uniform(-3, 3, n),
                    rng.uniform(-1.5, 0.5, n)], 1)
    feats = np.concatenate([xyz, rng.uniform(0, 1, (n, 1))], 1)
    return LiDARPoints(torch.tensor(feats, dtype=torch.float32),
                       points_dim=4)


def test_nonfinite_point_features_are_dropped_and_logged_once(monkeypatch):
    import cmkd_mmdet3d.datasets.transforms.transforms_3d as t3d
    from cmkd_mmdet3d.datasets.transforms import FOVFilterPoints
    logged = []
    monkeypatch.setattr(t3d, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    path = 'x/velodyne/nonfinite_000042.bin'
    pts = _fov_points()
    pts.tensor[3, 3] = float('nan')            # intensity only
    pts.tensor[7, 3] = float('inf')
    pts.tensor[9, 0] = float('nan')
    base = dict(img=np.zeros((H, W, 3), np.uint8), lidar2cam=L2C,
                cam2img=KITTI_P2, lidar_path=path,
                img_path='x/image_2/000042.png')
    for _ in range(2):
        out = FOVFilterPoints().transform(dict(base, points=pts.clone()))
        assert torch.isfinite(out['points'].tensor).all()
        assert out['num_nonfinite_points'] == 3
        assert len(out['points']) == 197
    assert len(logged) == 1                    # once per file
    msg, kw = logged[0]
    assert path in msg and '3 of 200' in msg and kw['level'] == 30
    # nothing finite: refused, naming the file
    pts.tensor[:, 3] = float('nan')
    with pytest.raises(ValueError, match=f'200 LiDAR points of {path}.*'
                       'non-finite'):
        FOVFilterPoints().transform(dict(base, points=pts))


# ---------------------------------------------------------------------------
# 2. image size vs infos and calibration
def test_image_of_another_size_than_its_info_is_refused(synthetic_world,
                                                        tmp_path):
    img_dir = tmp_path / 'image_2'
    img_dir.mkdir()
    src = os.path.join(synthetic_world, 'training', 'image_2')
    for name in os.listdir(src):
        img = cv2.imread(os.path.join(src, name))
        cv2.imwrite(str(img_dir / name), cv2.resize(img, (621, 188)))
    ds = _kitti(synthetic_world, _pipeline(), img=str(img_dir))
    with pytest.raises(ValueError) as err:
        ds[0]
    msg = str(err.value)
    assert str(img_dir / '000000.png') in msg
    assert '188x621' in msg and '375x1242' in msg
    assert 'images.CAM2.height/width' in msg
    # the untouched images load
    assert _kitti(synthetic_world, _pipeline())[0] is not None


def test_calibration_that_does_not_fit_the_image_is_refused():
    from cmkd_mmdet3d.datasets.transforms import check_image_size
    res = dict(img=np.zeros((100, 200, 3), np.uint8), cam2img=KITTI_P2,
               img_path='x/image_2/000003.png')
    with pytest.raises(ValueError) as err:
        check_image_size(res)
    msg = str(err.value)
    assert 'x/image_2/000003.png' in msg and '100x200' in msg
    assert 'principal point' in msg and '346x1219' in msg
    check_image_size(dict(res, img=np.zeros((H, W, 3), np.uint8)))


# ---------------------------------------------------------------------------
# 3. depth target stride
def test_depth_target_of_another_stride_than_the_image_is_refused():
    from cmkd_mmdet3d.datasets.transforms import (FOVFilterPoints,
                                                  MakeDepthTarget,
                                                  PackCMKDInputs,
                                                  ScaleImage3D)
    base = dict(img=np.zeros((H, W, 3), np.uint8), lidar2cam=L2C,
                cam2img=CAL.cam2img, img_path='x/image_2/000005.png',
                points=_fov_points(2000))
    pack = PackCMKDInputs(keys=['img'])
    res = MakeDepthTarget(16).transform(FOVFilterPoints().transform(
        dict(base)))
    assert res['gt_depth'].shape == (24, 78)
    out = pack.transform(dict(res))
    assert out['data_samples'].metainfo['depth_stride'] == 16
    assert tuple(out['data_samples'].gt_depth.shape) == (24, 78)
    # a resize after the depth target: the target no longer fits the image
    res = ScaleImage3D(0.5).transform(res)
    with pytest.raises(ValueError) as err:
        pack.transform(res)
    msg = str(err.value)
    assert '000005.png' in msg and '(24, 78)' in msg and \
        'stride 16 (12, 39)' in msg
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match='stride must be a positive'):
            MakeDepthTarget(bad)


# ---------------------------------------------------------------------------
# 4. unclear loader errors
def test_zero_byte_image_and_depth_png_name_the_file(tmp_path, input_checks):
    from mmcv.transforms import LoadImageFromFile

    from cmkd_mmdet3d.datasets.transforms import LoadDepthMap
    (tmp_path / 'image_2').mkdir()
    (tmp_path / 'depth_2').mkdir()
    img = tmp_path / 'image_2' / '000001.png'
    img.write_bytes(b'')
    with pytest.raises(ValueError, match=f'image {img} is empty '
                       r'\(0 bytes\)'):
        LoadImageFromFile()(dict(img_path=str(img)))
    img.write_bytes(b'GIF89a' + bytes(40))     # mmcv names this one itself
    with pytest.raises((AssertionError, ValueError), match=str(img)):
        LoadImageFromFile()(dict(img_path=str(img)))
    depth = tmp_path / 'depth_2' / '000001.png'
    depth.write_bytes(b'')
    with pytest.raises(ValueError, match=f'depth map {depth} .*empty '
                       r'\(0 bytes\)'):
        LoadDepthMap().transform(dict(img_path=str(img),
                                      img=np.zeros((4, 4, 3), np.uint8)))


@pytest.mark.parametrize('nbytes,load_dim', [(18, 4), (20, 4), (48, 5)])
def test_bin_that_is_not_n_points_names_the_file(tmp_path, input_checks,
                                                 nbytes, load_dim):
    from mmdet3d.datasets.transforms import LoadPointsFromFile
    path = tmp_path / '000001.bin'
    path.write_bytes(bytes(nbytes))
    t = LoadPointsFromFile(coord_type='LIDAR', load_dim=load_dim,
                           use_dim=3)
    with pytest.raises(ValueError) as err:
        t(dict(lidar_points=dict(lidar_path=str(path))))
    msg = str(err.value)
    assert f'point file {path} has {nbytes} bytes' in msg
    assert f'load_dim={load_dim}' in msg
    path.write_bytes(bytes(16 * load_dim))    # 4 points load as before
    out = t(dict(lidar_points=dict(lidar_path=str(path))))
    assert out['points'].tensor.shape == (4, 3)


def test_foreign_info_files_name_the_file(synthetic_world, tmp_path,
                                          input_checks):
    for path in _foreign_infos(tmp_path, synthetic_world):
        with pytest.raises(ValueError) as err:
            _kitti(synthetic_world, [], ann_file=path)
        assert f'info file {path}' in str(err.value), str(err.value)
        if 'ints' in path or 'no_data_list' in path:
            assert "'metainfo' and 'data_list'" in str(err.value)


def test_class_name_typo_names_the_class_and_the_dataset(synthetic_world,
                                                         input_checks):
    known = "['Pedestrian', 'Cyclist', 'Car', 'Van', 'Truck'"
    with pytest.raises(ValueError) as err:
        _kitti(synthetic_world, [], classes=['Pedestrian', 'Carr'])
    msg = str(err.value)
    assert "unknown class 'Carr'" in msg and known in msg
    assert 'KittiDataset' in msg and 'kitti_infos_train.pkl' in msg
    raw = os.path.join(synthetic_world, 'raw')
    with pytest.raises(ValueError) as err:
        _build(dict(type='KittiRawDataset', data_root=raw + '/',
                    ann_file='kitti_infos_eigen_clean.pkl', pipeline=[],
                    metainfo=dict(classes=['Pedestrian', 'Cyclist',
                                           'Carr'])))
    msg = str(err.value)
    assert "unknown class 'Carr'" in msg and known in msg
    assert 'KittiRawDataset' in msg and 'kitti_infos_eigen_clean' in msg
