"""The synthetic Waymo world: its geometry checked independently, mmdet3d's
``WaymoDataset`` reading it unchanged, and its ground truth evaluated by the
official Waymo op (when ``make waymo-env`` exists)."""
import os.path as osp
import subprocess
import sys

import mmengine
import numpy as np
import pytest
import torch

from cmkd_mmdet3d.testing.synthetic.waymo_writer import (
    VEHICLE_FROM_LIDAR, WAYMO_CAMERA_HEIGHT, generate_waymo_world,
    sample_index, waymo_calibration)

from _helpers.waymo import WAYMO_PYTHON, needs_waymo
from conftest import REPO_ROOT

IMG_SHAPE = (160, 240)


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('waymo') / 'world')
    paths = generate_waymo_world(root, num_train=3, num_val=3, seed=1,
                                 img_shape=IMG_SHAPE, num_beams=32,
                                 azimuth_step_deg=0.4,
                                 gt_bin=None if WAYMO_PYTHON else False,
                                 waymo_python=WAYMO_PYTHON)
    return root, paths


def _dataset(root, split='val', load_type='frame_based'):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    pipeline = [
        dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=6,
             use_dim=5),
        dict(type='LoadImageFromFileMono3D'),
        dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
        dict(type='Pack3DDetInputs',
             keys=['points', 'img', 'gt_bboxes_3d', 'gt_labels_3d'],
             meta_keys=['context_name', 'timestamp', 'lidar2img', 'cam2img',
                        'lidar2cam', 'img_shape', 'sample_idx'])]
    return DATASETS.build(dict(
        type='WaymoDataset', data_root=root,
        ann_file=f'waymo_infos_{split}.pkl',
        data_prefix=dict(pts='training/velodyne',
                         CAM_FRONT='training/image_0'),
        modality=dict(use_lidar=True, use_camera=True), test_mode=False,
        filter_empty_gt=False, load_type=load_type,
        box_type_3d='LiDAR' if load_type == 'frame_based' else 'Camera',
        pipeline=pipeline))


def test_calibration_scales_with_the_image():
    full = waymo_calibration((1280, 1920))
    half = waymo_calibration((640, 960))
    np.testing.assert_allclose(half.P2[:2], full.P2[:2] / 2)
    # the LiDAR sits 7 cm above and 11 cm behind the camera: seen from
    # the LiDAR (x forward, z up) the camera is 11 cm ahead, 7 cm below
    np.testing.assert_allclose(np.linalg.inv(full.lidar2cam)[:3, 3],
                               [0.11, 0.0, -0.07], atol=1e-12)
    assert sample_index(1, 23) == 1001003


def test_dataset_reads_the_world_and_geometry_agrees(world):
    from mmcv.ops import points_in_boxes_cpu
    root, paths = world
    ds = _dataset(root)
    assert len(ds) == 3
    infos = mmengine.load(paths['val'])['data_list']
    checked = 0
    for i in range(len(ds)):
        sample = ds[i]
        pts = sample['inputs']['points'].numpy()
        meta = sample['data_samples'].metainfo
        boxes = sample['data_samples'].gt_instances_3d.bboxes_3d
        info = infos[i]
        assert meta['context_name'] == info['context_name']
        assert meta['timestamp'] == info['timestamp']
        # the ground is the vehicle frame's z = 0: the LiDAR is mounted at
        # VEHICLE_FROM_LIDAR[2] above it, the camera at 2.115 m
        ground = pts[pts[:, 2] < 0.3]
        assert abs(np.median(ground[:, 2])) < 0.1
        assert VEHICLE_FROM_LIDAR[2] > WAYMO_CAMERA_HEIGHT
        # each box's centre projects inside its 2D box of the label camera
        l2i = np.asarray(meta['lidar2img'])
        centres = boxes.gravity_center.numpy()
        uvw = np.c_[centres, np.ones(len(centres))] @ l2i.T
        uv = uvw[:, :2] / uvw[:, 2:3]
        for (u, v), inst in zip(uv, info['instances']):
            x1, y1, x2, y2 = inst['bbox']
            assert x1 - 1 <= u <= x2 + 1 and y1 - 1 <= v <= y2 + 1
            checked += 1
        # num_lidar_pts counted again by mmcv's op
        inside = points_in_boxes_cpu(
            torch.from_numpy(pts[None, :, :3]).float(),
            boxes.tensor[None, :, :7].float())[0].sum(0).numpy()
        counts = np.array([inst['num_lidar_pts'] for inst in
                           info['instances']])
        assert np.abs(inside - counts).max() <= 0.02 * counts.max() + 2
    assert checked > 5


def test_camera_instances_match_the_lidar_boxes(world):
    from mmdet3d.structures import Box3DMode
    root, _ = world
    lidar_ds = _dataset(root)
    cam_ds = _dataset(root, load_type='fov_image_based')
    lidar = lidar_ds[1]['data_samples']
    cam = cam_ds[1]['data_samples']
    back = cam.gt_instances_3d.bboxes_3d.convert_to(
        Box3DMode.LIDAR, np.linalg.inv(np.asarray(lidar.lidar2cam)))
    np.testing.assert_allclose(
        back.tensor.numpy(), lidar.gt_instances_3d.bboxes_3d.tensor.numpy(),
        atol=2e-3)


def test_generation_is_resumable_and_refuses_other_settings(world, capsys):
    root, _ = world
    before = open(osp.join(root, 'training', 'velodyne', '1000000.bin'),
                  'rb').read()
    generate_waymo_world(root, num_train=3, num_val=3, seed=1,
                         img_shape=IMG_SHAPE, num_beams=32,
                         azimuth_step_deg=0.4, gt_bin=False)
    assert open(osp.join(root, 'training', 'velodyne', '1000000.bin'),
                'rb').read() == before
    with pytest.raises(ValueError, match='seed: 1 != 2'):
        generate_waymo_world(root, num_train=3, num_val=3, seed=2,
                             img_shape=IMG_SHAPE, num_beams=32,
                             azimuth_step_deg=0.4, gt_bin=False)


def test_create_data_command(tmp_path):
    out = tmp_path / 'w'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'create_data.py'),
         'synthetic-waymo', '--out', str(out), '--num-train', '1',
         '--num-val', '1', '--img-height', '64', '--img-width', '96',
         '--beams', '8', '--azimuth-step', '1.0', '--gt-bin', 'no'],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'waymo_infos_val.pkl' in proc.stdout
    assert (out / 'training' / 'image_0' / '1000000.png').is_file()


@needs_waymo
def test_ground_truth_bin_evaluates_to_one(world):
    from cmkd_mmdet3d.evaluation.waymo_metric import (WaymoAPMetric,
                                                      read_waymo_gt)
    root, paths = world
    gt = read_waymo_gt(paths['fov_gt_bin'], WAYMO_PYTHON)
    infos = mmengine.load(paths['val'])['data_list']
    assert len(gt['box']) == sum(len(i['instances']) for i in infos)
    ds = _dataset(root)
    metric = WaymoAPMetric(waymo_bin_file=paths['fov_gt_bin'],
                           waymo_python=WAYMO_PYTHON)
    metric.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        data = ds[i]['data_samples']
        inst = data.gt_instances_3d
        samples.append(dict(
            pred_instances_3d=dict(
                bboxes_3d=inst.bboxes_3d,
                scores_3d=torch.full((len(inst.labels_3d), ), 0.9),
                labels_3d=inst.labels_3d),
            **data.metainfo))
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(1.0, abs=1e-5)
    aps = [v for k, v in out.items() if ' AP@' in k or ' APH@' in k]
    assert aps and min(aps) == pytest.approx(1.0, abs=1e-5)
