import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_SAMPLES = os.path.join(REPO_ROOT, '..', 'shared', 'data',
                              'mmdet3d_samples')


@pytest.fixture(scope='session')
def synthetic_world(tmp_path_factory):
    """A small synthetic KITTI world with infos (4 train, 2 val frames, 3
    unlabeled raw frames and 2 test frames without labels)."""
    from cmkd_mmdet3d.testing.synthetic import generate_world
    root = str(tmp_path_factory.mktemp('world') / 'synthetic_kitti')
    generate_world(root, num_train=4, num_val=2, num_unlabeled=3, seed=7,
                   num_test=2)
    return root


NUS_WORLD_IMG_SHAPE = (90, 160)


@pytest.fixture(scope='session')
def nus_world(tmp_path_factory):
    """A small synthetic nuScenes world: 3 scenes (2 train, 1 val,
    nuScenes' first split names) of 3 key frames, 2 sweeps before each,
    90 x 160 images and a sparse LiDAR; returns (root, info paths)."""
    from cmkd_mmdet3d.testing.synthetic.nuscenes_writer import \
        generate_nuscenes_world
    root = str(tmp_path_factory.mktemp('nus') / 'world')
    paths = generate_nuscenes_world(
        root, num_scenes=3, num_val_scenes=1, samples_per_scene=3, seed=0,
        img_shape=NUS_WORLD_IMG_SHAPE, sweeps_per_sample=2, num_beams=16,
        azimuth_step_deg=0.66)
    return root, paths


@pytest.fixture(scope='session')
def frame():
    """One synthetic frame (seed 11, the 2011_09_28 calibration)."""
    from cmkd_mmdet3d.testing.synthetic import (calibration_for_date,
                                                make_frame)
    return make_frame(11, calibration_for_date('2011_09_28'))


def venv_bin(name):
    """An executable next to this interpreter (mim, pytest ...), or None."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.exists(path) else shutil.which(name)


def run(cmd, cwd, timeout=900, env=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    return proc


@pytest.fixture()
def raw_layout(synthetic_world, tmp_path):
    """The world's raw part plus a drive of another date, a missing frame
    and a corrupt sweep; returns (root, split file)."""
    from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date
    from cmkd_mmdet3d.testing.synthetic.writer import write_raw_calib
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
