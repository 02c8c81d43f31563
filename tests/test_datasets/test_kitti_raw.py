"""Unlabeled KITTI raw: infos from drives + per-date calibration, the
dataset (FOV points, no annotations, bad frames skipped) and the
labeled : unlabeled ratio sampler."""
import os
import shutil

import numpy as np
import pytest

from cmkd_mmdet3d.datasets import create_kitti_raw_infos, read_raw_calib
from cmkd_mmdet3d.datasets.synthetic.geometry import calibration_for_date
from cmkd_mmdet3d.datasets.synthetic.writer import write_raw_calib


@pytest.fixture()
def raw_layout(synthetic_world, tmp_path):
    """The world's raw part plus a drive of another date, a missing frame
    and a corrupt sweep; returns (root, split file)."""
    root = tmp_path / 'raw'
    shutil.copytree(os.path.join(synthetic_world, 'raw'), root)
    with open(os.path.join(synthetic_world, 'ImageSets',
                           'eigen_clean.txt')) as f:
        frames = [ln.strip() for ln in f if ln.strip()]
    date0, drive0 = frames[0].split('/')[:2]
    # copy frame 0 into a drive of another date, with that date's calib
    date1 = '2011_09_29'
    src = root / date0 / drive0
    dst = root / date1 / f'{date1}_drive_0042_sync'
    for sub in ('image_02/data', 'velodyne_points/data'):
        os.makedirs(dst / sub)
    name = frames[0].split('/')[-1]
    shutil.copy(src / 'image_02' / 'data' / f'{name}.png',
                dst / 'image_02' / 'data' / f'{name}.png')
    shutil.copy(src / 'velodyne_points' / 'data' / f'{name}.bin',
                dst / 'velodyne_points' / 'data' / f'{name}.bin')
    write_raw_calib(str(root / date1), calibration_for_date(date1))
    other = f'{date1}/{date1}_drive_0042_sync/image_02/data/{name}'
    # a corrupt sweep (not N x 4 float32) and a missing frame
    bad = frames[1].split('/')[-1]
    with open(src / 'velodyne_points' / 'data' / f'{bad}.bin', 'ab') as f:
        f.write(b'xyz')
    missing = f'{date0}/{drive0}/image_02/data/0000009999'
    split = tmp_path / 'eigen_clean.txt'
    split.write_text('\n'.join(frames + [other, missing]) + '\n')
    return str(root), str(split), frames, other


def test_raw_calibration_matches_the_generator(synthetic_world):
    date = '2011_09_26'
    calib = read_raw_calib(os.path.join(synthetic_world, 'raw', date))
    ref = calibration_for_date(date)
    np.testing.assert_allclose(calib['lidar2cam'], ref.lidar2cam, atol=1e-6)
    np.testing.assert_allclose(calib['cam2img'], ref.cam2img, atol=1e-6)


def test_raw_infos_per_date_calibration_and_skipped_frames(
        raw_layout, tmp_path):
    import mmengine
    root, split, frames, other = raw_layout
    out = str(tmp_path / 'infos' / 'kitti_infos_eigen.pkl')
    n, skipped = create_kitti_raw_infos(root, split, out, progress=False)
    # all good frames but the corrupt one; the other date's frame included
    assert n == len(frames) - 1 + 1
    assert len(skipped) == 2
    assert any('corrupt' in s and frames[1].split('/')[-1] in s
               for s in skipped)
    assert any('missing' in s and '0000009999' in s for s in skipped)
    with open(out + '.skipped.txt') as f:
        assert len(f.read().splitlines()) == 2
    infos = mmengine.load(out)
    assert infos['metainfo']['dataset'] == 'kitti_raw'
    by_id = {d['frame_id']: d for d in infos['data_list']}
    for rel, info in by_id.items():
        date = rel.split('/')[0]
        cam = info['images']['CAM2']
        ref = calibration_for_date(date)
        np.testing.assert_allclose(cam['lidar2cam'], ref.lidar2cam,
                                   atol=1e-6)
        np.testing.assert_allclose(cam['cam2img'], ref.cam2img, atol=1e-6)
        np.testing.assert_allclose(
            cam['lidar2img'], ref.cam2img @ ref.lidar2cam, atol=1e-4)
        assert (cam['height'], cam['width']) == (375, 1242)
        assert info['instances'] == []
        assert os.path.exists(os.path.join(root, cam['img_path']))
        assert os.path.exists(os.path.join(
            root, info['lidar_points']['lidar_path']))
    # the two dates really differ
    a = by_id[frames[0]]['images']['CAM2']['cam2img']
    b = by_id[other]['images']['CAM2']['cam2img']
    assert not np.allclose(a, b)


def _raw_dataset(root, ann_file):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    pipeline = [
        dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
             use_dim=4),
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations3D', with_bbox_3d=True,
             with_label_3d=True),
        dict(type='LoadDepthMap'),       # no depth_2 for raw frames: skipped
        dict(type='FOVFilterPoints'),
        dict(type='MakeDepthTarget', stride=8),
        dict(type='PackCMKDInputs',
             keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
    ]
    return DATASETS.build(dict(
        type='KittiRawDataset', data_root=root.rstrip('/') + '/',
        ann_file=ann_file, pipeline=pipeline,
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))


def test_raw_dataset_fov_points_no_labels_and_bad_frames(raw_layout,
                                                         tmp_path):
    from cmkd_mmdet3d.datasets.transforms import project_to_image
    root, split, frames, other = raw_layout
    out = str(tmp_path / 'kitti_infos_eigen.pkl')
    create_kitti_raw_infos(root, split, out, progress=False)
    ds = _raw_dataset(root, out)
    assert len(ds) == len(frames)
    sample = ds[0]
    meta = sample['data_samples'].metainfo
    pts = sample['inputs']['points'][:, :3].double().numpy()
    raw = np.fromfile(os.path.join(root, ds.get_data_info(0)['lidar_points']
                                   ['lidar_path']), np.float32)
    assert 0 < len(pts) < len(raw) // 4          # FOV-filtered on load
    uvd = project_to_image(pts, np.asarray(meta['lidar2cam']),
                           np.asarray(meta['cam2img']))
    assert (uvd[:, 2] >= 0).all() and (uvd[:, 0] >= 0).all() and \
        (uvd[:, 0] < 1242).all()
    assert len(sample['data_samples'].gt_instances_3d.labels_3d) == 0
    assert sample['data_samples'].gt_depth.shape == (47, 156)
    # a frame that breaks after the infos were made is skipped, not fatal
    lidar = os.path.join(root, ds.get_data_info(1)['lidar_points']
                         ['lidar_path'])
    os.remove(lidar)
    assert ds.prepare_data(1) is None
    got = ds[1]                                  # another frame instead
    assert got['data_samples'].metainfo['sample_idx'] != 1


def test_labeled_unlabeled_ratio_per_batch(synthetic_world, raw_layout,
                                           tmp_path):
    from mmdet.datasets.samplers import MultiSourceSampler
    from mmengine.dataset import ConcatDataset
    root, split, frames, _ = raw_layout
    out = str(tmp_path / 'kitti_infos_eigen.pkl')
    create_kitti_raw_infos(root, split, out, progress=False)
    unlabeled = _raw_dataset(root, out)
    from mmdet3d.registry import DATASETS
    labeled = DATASETS.build(dict(
        type='KittiDataset', data_root=synthetic_world + '/',
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=True), pipeline=[],
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
    # the infos' own metainfo differs (dataset name, categories, split)
    both = ConcatDataset([labeled, unlabeled], ignore_keys=[
        'dataset', 'categories', 'info_version', 'split_file'])
    sampler = MultiSourceSampler(both, batch_size=4, source_ratio=[1, 3],
                                 shuffle=True, seed=0)
    it = iter(sampler)
    n_lab = len(labeled)
    for _ in range(5):
        batch = [next(it) for _ in range(4)]
        assert sum(i < n_lab for i in batch) == 1, batch
        assert all(0 <= i < len(both) for i in batch)


def test_mixed_batches_by_hand():
    """sizes (5 labeled, 3 unlabeled), 2 + 2 per batch: 2 batches per epoch
    (one pass over the labeled frames, the 5th dropped), unlabeled frames
    cycled; without shuffling the order is fully predictable."""
    from cmkd_mmdet3d.datasets import mixed_batches
    assert mixed_batches([5, 3], [2, 2]) == [[0, 1, 5, 6], [2, 3, 7, 5]]
    rng = np.random.default_rng(0)
    batches = mixed_batches([7, 20], [1, 3], rng)
    assert len(batches) == 7
    assert sorted(b[0] for b in batches) == list(range(7))
    unl = [i for b in batches for i in b[1:]]
    assert all(7 <= i < 27 for i in unl) and len(set(unl)) == 20


def test_mixed_batch_sampler_epochs_and_ranks(monkeypatch):
    from cmkd_mmdet3d.datasets import MixedBatchSampler

    class Both:
        datasets = [list(range(6)), list(range(4))]

    s = MixedBatchSampler(Both(), source_ratio=[2, 2], seed=3)
    assert len(s) == 12
    e0 = list(s)
    assert len(e0) == 12
    for b in range(3):
        batch = e0[4 * b:4 * b + 4]
        assert sum(i < 6 for i in batch) == 2, batch
    assert sorted(i for i in e0 if i < 6) == list(range(6))
    s.set_epoch(1)
    assert list(s) != e0                         # reshuffled per epoch
    s.set_epoch(0)
    assert list(s) == e0                         # and reproducible
    # two ranks: every other batch each, together the whole epoch
    import cmkd_mmdet3d.datasets.samplers as mod
    parts = []
    for rank in (0, 1):
        monkeypatch.setattr(mod, 'get_dist_info', lambda r=rank: (r, 2))
        r = MixedBatchSampler(Both(), source_ratio=[2, 2], seed=3)
        parts.append(list(r))
        assert len(r) == len(parts[-1])
    assert parts[0] + parts[1] == e0[0:4] + e0[8:12] + e0[4:8]
    with pytest.raises(ValueError, match='source_ratio'):
        MixedBatchSampler(Both(), source_ratio=[1, 1, 1])


def test_create_data_kitti_raw_command(raw_layout, tmp_path):
    import subprocess
    import sys

    from conftest import REPO_ROOT
    root, split, frames, _ = raw_layout
    out = str(tmp_path / 'eigen.pkl')
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, 'tools', 'create_data.py'),
         'kitti-raw', '--root', root, '--split-file', split, '--out', out],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'{len(frames)} unlabeled frames -> {out}' in proc.stdout
    assert '2 frames skipped' in proc.stdout and 'missing' in proc.stdout
