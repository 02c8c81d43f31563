"""Geometry of the synthetic KITTI world, checked against independent
computations."""
import os

import numpy as np
import pytest

from cmkd_mmdet3d.testing.synthetic import (calibration_for_date, make_frame,
                                            read_calib_txt, write_calib_txt)
from cmkd_mmdet3d.testing.synthetic.geometry import KITTI_P2, box_corners_cam


@pytest.fixture(scope='module')
def frame():
    return make_frame(11, calibration_for_date('2011_09_28'))


def _parse(line):
    f = line.split()
    return dict(cls=f[0], trunc=float(f[1]), occ=int(f[2]),
                bbox=np.array(f[4:8], float), hwl=np.array(f[8:11], float),
                loc=np.array(f[11:14], float), ry=float(f[14]))


def test_deterministic_for_a_seed():
    calib = calibration_for_date('2011_09_26')
    a, b = make_frame(5, calib), make_frame(5, calib)
    c = make_frame(6, calib)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.points, b.points)
    assert a.labels == b.labels
    assert not np.array_equal(a.points[:100], c.points[:100])


def test_lidar_points_lie_on_object_surfaces(frame):
    """Points inside an object's labelled box are within range noise of the
    surface of one of the object's parts (they are ray hits, not samples of
    the volume)."""
    l2c = frame.calib.lidar2cam
    cam = frame.points[:, :3] @ l2c[:3, :3].T + l2c[:3, 3]
    checked = 0
    for solid in frame.scene.solids:
        if solid.cls is None:
            continue
        c, s = np.cos(solid.ry), np.sin(solid.ry)
        rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        local = (cam - solid.loc) @ rot      # box frame, y down from bottom
        l, h, w = solid.dims
        inside = (np.abs(local[:, 0]) < l / 2 - 0.15) & \
            (np.abs(local[:, 2]) < w / 2 - 0.15) & \
            (local[:, 1] < -0.15) & (local[:, 1] > -h + 0.15)
        pts = cam[inside]
        if len(pts) < 5:
            continue
        dist = np.full(len(pts), np.inf)
        for part in solid.parts:
            cp, sp = np.cos(part.ry), np.sin(part.ry)
            rp = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
            q = np.abs((pts - part.center) @ rp) - part.dims / 2
            outside = np.linalg.norm(np.maximum(q, 0), axis=1)
            inner = np.minimum(q.max(1), 0)
            dist = np.minimum(dist, np.abs(outside + inner))
        # 2 cm range noise: nearly all within 8 cm of a surface
        assert np.quantile(dist, 0.99) < 0.08, (solid.cls, dist.max())
        checked += 1
    assert checked >= 1


def test_2d_labels_are_projected_3d_boxes(frame):
    h_img, w_img = frame.image.shape[:2]
    n = 0
    for line in frame.labels:
        lab = _parse(line)
        if lab['cls'] == 'DontCare' or lab['trunc'] > 0:
            continue
        h, w, length = lab['hwl']
        corners = box_corners_cam(lab['loc'], np.array([length, h, w]),
                                  lab['ry'])
        uvw = np.c_[corners, np.ones(8)] @ frame.calib.P2.T
        uv = uvw[:, :2] / uvw[:, 2:]
        box = [uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(),
               uv[:, 1].max()]
        np.testing.assert_allclose(lab['bbox'], box, atol=0.006)
        n += 1
    assert n >= 1
    assert frame.image.shape == (375, 1242, 3)


def test_calibration_round_trip_through_mmdet3d_infos(synthetic_world):
    """The calib/*.txt files parse back to our matrices, and mmdet3d's own
    converter derived the same lidar2cam / cam2img for its infos."""
    import mmengine
    infos = mmengine.load(os.path.join(synthetic_world,
                                       'kitti_infos_train.pkl'))
    dates = ['2011_09_26', '2011_09_28', '2011_09_29', '2011_09_30']
    for idx, info in enumerate(infos['data_list']):
        calib = calibration_for_date(dates[idx])
        txt = read_calib_txt(os.path.join(synthetic_world, 'training',
                                          'calib', f'{idx:06d}.txt'))
        np.testing.assert_allclose(txt['P2'], calib.P2, rtol=1e-9)
        cam2 = info['images']['CAM2']
        np.testing.assert_allclose(np.array(cam2['lidar2cam']),
                                   calib.lidar2cam, atol=1e-6)
        np.testing.assert_allclose(np.array(cam2['cam2img'])[:3],
                                   calib.P2, atol=1e-4)
    assert np.allclose(calibration_for_date('2011_09_26').P2, KITTI_P2)


def test_malformed_calibration_names_file_and_key(tmp_path):
    path = tmp_path / 'bad.txt'
    write_calib_txt(str(path), calibration_for_date('2011_09_26'))
    text = path.read_text().replace('P2: ', 'P2: 1.0 ')
    path.write_text(text)
    with pytest.raises(ValueError, match=r'bad\.txt.*P2.*13 values'):
        read_calib_txt(str(path))


def test_infos_load_through_kitti_dataset(synthetic_world):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    ds = DATASETS.build(dict(
        type='KittiDataset', data_root=synthetic_world + '/',
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=True),
        pipeline=[
            dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
                 use_dim=4),
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations3D', with_bbox_3d=True,
                 with_label_3d=True),
            dict(type='Pack3DDetInputs',
                 keys=['points', 'img', 'gt_bboxes_3d', 'gt_labels_3d'])
        ],
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
    assert len(ds) == 4
    sample = ds[0]
    assert sample['inputs']['img'].shape == (3, 375, 1242)
    pts = sample['inputs']['points']          # (N, 4) tensor
    boxes = sample['data_samples'].gt_instances_3d.bboxes_3d
    assert len(boxes) >= 1 and len(pts) > 1000
    # the reduced cloud is the camera field of view: every point projects
    # into the image
    l2i = np.array(sample['data_samples'].metainfo['lidar2img'])
    uvw = np.c_[pts[:, :3].numpy(), np.ones(len(pts))] @ l2i[:3].T
    uv = uvw[:, :2] / uvw[:, 2:]
    assert (uvw[:, 2] > 0).all()
    assert (uv[:, 0] > -1).all() and (uv[:, 0] < 1243).all()
    # some points lie in labelled boxes
    from mmdet3d.structures.ops import box_np_ops
    in_box = box_np_ops.points_in_rbbox(pts[:, :3].numpy(),
                                        boxes.tensor.numpy()).any(1)
    assert in_box.sum() > 20


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
