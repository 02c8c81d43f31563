"""Unlabeled KITTI raw: infos from drives + per-date calibration, the
dataset (FOV points, no annotations, bad frames skipped) and the
labeled : unlabeled ratio sampler."""
import os
import shutil
import sys

import mmengine
import numpy as np
import pytest

from cmkd_mmdet3d.datasets import create_kitti_raw_infos, read_raw_calib
from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date
from _helpers.datasets import (CLASSES, _build, _foreign_infos, _pipeline,
                               _raw_dataset)
from _helpers.tools import load_tool


def test_foreign_info_files_refused_by_the_raw_dataset(synthetic_world,
                                                       tmp_path):
    """No shim needed: ``KittiRawDataset`` checks on its own."""
    for path in _foreign_infos(tmp_path, synthetic_world):
        with pytest.raises(ValueError, match=f'info file {path}'):
            _build(dict(type='KittiRawDataset', data_root=str(tmp_path) +
                        '/', ann_file=path, pipeline=[],
                        metainfo=dict(classes=CLASSES)))


# ---------------------------------------------------------------------------
# 5. KittiRawDataset and create_data.py kitti-raw
@pytest.fixture()
def raw_copy(synthetic_world, tmp_path):
    from cmkd_mmdet3d.datasets import create_kitti_raw_infos
    root = tmp_path / 'raw'
    shutil.copytree(os.path.join(synthetic_world, 'raw'), root)
    split = os.path.join(synthetic_world, 'ImageSets', 'eigen_clean.txt')
    out = str(tmp_path / 'eigen.pkl')
    create_kitti_raw_infos(str(root), split, out, progress=False)
    return str(root), split, out


def _raw(root, ann_file):
    return _build(dict(
        type='KittiRawDataset', data_root=root + '/', ann_file=ann_file,
        pipeline=_pipeline(), metainfo=dict(classes=CLASSES)))


def test_raw_dataset_skips_a_zero_byte_png_and_records_it(raw_copy):
    root, _, out = raw_copy
    ds = _raw(root, out)
    info = ds.get_data_info(1)
    open(info['img_path'], 'wb').close()
    assert ds.prepare_data(1) is None
    assert list(ds.skipped) == [info['frame_id']]
    reason = ds.skipped[info['frame_id']]
    assert info['img_path'] in reason and '0 bytes' in reason
    assert ds[1]['data_samples'].metainfo['sample_idx'] != 1


def test_raw_dataset_skips_a_singular_calibration(raw_copy):
    root, _, out = raw_copy
    infos = mmengine.load(out)
    bad = infos['data_list'][1]
    bad['images']['CAM2']['lidar2cam'] = np.zeros((4, 4)).tolist()
    ann = out.replace('.pkl', '_singular.pkl')
    mmengine.dump(infos, ann)
    ds = _raw(root, ann)
    assert len(ds) == len(infos['data_list']) - 1
    assert list(ds.skipped) == [bad['frame_id']]
    reason = ds.skipped[bad['frame_id']]
    assert ann in reason and 'lidar2cam' in reason and 'singular' in reason
    assert ds[0] is not None


def _create_data_main(monkeypatch, *argv):
    """``main()`` of tools/create_data.py in this process (a subprocess
    would import the installed package, and take seconds); returns the
    exit message, None when it did not exit."""
    tool = load_tool('create_data.py')
    monkeypatch.setattr(sys, 'argv', ['create_data.py', *argv])
    try:
        tool.main()
    except SystemExit as e:
        return e.code
    return None


def test_create_data_kitti_raw_fails_without_a_usable_frame(raw_copy,
                                                            tmp_path,
                                                            monkeypatch):
    root, split, _ = raw_copy
    with open(split) as f:
        frames = [ln.strip() for ln in f if ln.strip()]
    missing = tmp_path / 'missing.txt'
    missing.write_text('\n'.join(f.replace(f.split('/')[-1], '99999999' +
                                           str(i))
                                 for i, f in enumerate(frames[:2])) + '\n')
    out = str(tmp_path / 'none.pkl')
    code = _create_data_main(monkeypatch, 'kitti-raw', '--root', root,
                             '--split-file', str(missing), '--out', out)
    # a str exit code: status 1, the message on stderr
    assert isinstance(code, str), code
    assert str(missing) in code and '2 missing' in code
    assert not os.path.exists(out)
    assert len(open(out + '.skipped.txt').read().splitlines()) == 2


def test_raw_infos_skip_the_frames_of_a_singular_calibration(raw_copy,
                                                             tmp_path):
    from cmkd_mmdet3d.datasets import create_kitti_raw_infos
    root, split, _ = raw_copy
    date = os.listdir(root)
    date = [d for d in date if os.path.isdir(os.path.join(root, d))][0]
    v2c = os.path.join(root, date, 'calib_velo_to_cam.txt')
    lines = [('R: ' + ' '.join(['0'] * 9)) if ln.startswith('R:') else ln
             for ln in open(v2c).read().splitlines()]
    open(v2c, 'w').write('\n'.join(lines) + '\n')
    with pytest.raises(ValueError) as err:
        create_kitti_raw_infos(root, split, str(tmp_path / 'x.pkl'),
                               progress=False)
    assert split in str(err.value) and '0 missing' in str(err.value)
    assert 'singular' in str(err.value) and v2c.rsplit('/', 1)[0] in \
        str(err.value)


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


def test_create_data_kitti_raw_command(raw_layout, tmp_path):
    import subprocess
    import sys

    from conftest import REPO_ROOT
    root, split, frames, _ = raw_layout
    out = str(tmp_path / 'eigen.pkl')
    # test this checkout, not an installed copy
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO_ROOT, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, 'tools', 'create_data.py'),
         'kitti-raw', '--root', root, '--split-file', split, '--out', out],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'{len(frames)} unlabeled frames -> {out}' in proc.stdout
    assert '2 frames skipped' in proc.stdout and 'missing' in proc.stdout
