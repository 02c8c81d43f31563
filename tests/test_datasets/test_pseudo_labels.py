"""Bad inputs are refused and nothing a run reads executes code.

* pickles (pseudo-label caches, shards, info files through
  ``mmengine.load``) are unpickled with an allowlist: a crafted pickle whose
  ``__reduce__`` would create a file or call ``os.system`` is refused with
  the file's name and its payload does not run (the same bytes, given to a
  plain ``pickle.loads``, do run it: the payload is real);
* a pseudo-label cache made for another class list is refused by the
  dataset and by ``tools/misc/pseudo_labels.py export``;
* label files with a NaN / inf value or a size <= 0 are refused with file
  and line (``import``, ``label_2`` before the info converter), info
  instances with the info file, frame and instance index.
"""
import os
import pickle
import sys

import mmengine
import numpy as np
import pytest
from _helpers.datasets import (CLASSES, _CreateFile, _System, _cache,
                               _check_payload_is_real, _evil_bytes, _frames,
                               _kitti, _pipeline)
from _helpers.tools import load_tool


# ---------------------------------------------------------------------------
# 6. a label_2 box with a size <= 0 through mmdet3d's KittiDataset
def test_label_2_box_with_a_negative_size_is_refused(synthetic_world,
                                                     tmp_path):
    infos = mmengine.load(os.path.join(synthetic_world,
                                       'kitti_infos_train.pkl'))
    inst = infos['data_list'][1]['instances']
    i = [k for k, x in enumerate(inst) if x['bbox_label_3d'] != -1][0]
    inst[i]['bbox_3d'][4] = -1.45                 # h (camera x y z l h w)
    ann = str(tmp_path / 'neg.pkl')
    mmengine.dump(infos, ann)
    ds = _kitti(synthetic_world, _pipeline(), ann_file=ann)
    assert ds[0] is not None
    with pytest.raises(ValueError) as err:
        ds[1]
    msg = str(err.value)
    lidar = ds.get_data_info(1)['lidar_path']
    assert f'{lidar}: frame 1, instance {i}' in msg and 'size <= 0' in msg


def _load_tool():
    return load_tool('misc', 'pseudo_labels.py')


def _run_tool(monkeypatch, *argv):
    """``main()`` of tools/misc/pseudo_labels.py in this process; returns
    the exit message (None when it did not exit)."""
    tool = _load_tool()
    monkeypatch.setattr(sys, 'argv', ['pseudo_labels.py', *argv])
    try:
        tool.main()
    except SystemExit as e:
        return str(e.code)
    return None


def _raw_info(frame_id='2011_09_26/d_sync/image_02/data/0000000000',
              instances=()):
    eye = np.eye(4).tolist()
    return dict(
        sample_idx=0, frame_id=frame_id,
        images=dict(CAM2=dict(img_path=frame_id + '.png', cam2img=eye,
                              lidar2cam=eye, lidar2img=eye, height=375,
                              width=1242)),
        lidar_points=dict(lidar_path=frame_id + '.bin', num_pts_feats=4),
        instances=list(instances))


def _write_infos(path, data_list):
    import mmengine
    mmengine.dump(dict(metainfo=dict(categories={c: i for i, c in
                                                 enumerate(CLASSES)}),
                       data_list=data_list), str(path))
    return str(path)


def _raw_dataset(ann_file, classes=CLASSES, lazy_init=False):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    return DATASETS.build(dict(
        type='KittiRawDataset', data_root=os.path.dirname(ann_file) + '/',
        ann_file=ann_file, pipeline=[],
        metainfo=dict(classes=list(classes)), lazy_init=lazy_init))


# ---------------------------------------------------------------------------
# 1. no code runs while reading a pickle
@pytest.mark.parametrize('payload_cls,protocol', [(_CreateFile, 2),
                                                  (_CreateFile, 5),
                                                  (_System, 4)])
def test_crafted_cache_is_refused_and_its_payload_does_not_run(
        tmp_path, payload_cls, protocol):
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    from cmkd_mmdet3d.utils import UnsafePickleError
    _check_payload_is_real(payload_cls, tmp_path, protocol)
    marker = tmp_path / 'pwned'
    path = tmp_path / 'latest.pkl'
    path.write_bytes(_evil_bytes(payload_cls, marker, protocol))
    with pytest.raises(UnsafePickleError) as err:
        load_pseudo_labels(str(path))
    msg = str(err.value)
    assert str(path) in msg
    glob = 'posix.system' if payload_cls is _System else 'io.open'
    assert f"'{glob}'" in msg
    assert not marker.exists()
    # an UnpicklingError, not a ValueError: callers cannot mistake it for
    # a merely truncated file
    assert isinstance(err.value, pickle.UnpicklingError)


def test_valid_caches_of_every_protocol_load_with_their_values(tmp_path):
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    from cmkd_mmdet3d.datasets.pseudo_labels import atomic_pickle
    ref = _cache()
    for protocol in (2, 4, 5):
        path = tmp_path / f'c{protocol}.pkl'
        path.write_bytes(pickle.dumps(ref, protocol=protocol))
        back = load_pseudo_labels(str(path))
        assert back['meta'] == ref['meta']
        assert set(back['frames']) == {'f0', 'f1'}
        box = back['frames']['f0']['bboxes_3d']
        assert box.dtype == np.float32
        np.testing.assert_array_equal(
            box, np.float32([[10., 1., -1., 4., 1.8, 1.5, .3]]))
        assert back['frames']['f0']['labels_3d'].tolist() == [2]
        assert back['frames']['f0']['scores_3d'].tolist() == [0.75]
        assert back['frames']['f1']['bboxes_3d'].shape == (0, 7)
    atomic_pickle(ref, str(tmp_path / 'atomic.pkl'))     # what the hook does
    assert load_pseudo_labels(str(tmp_path / 'atomic.pkl'))['meta'] == \
        ref['meta']


def test_crafted_cache_is_refused_by_the_dataset_and_the_tool(
        tmp_path, monkeypatch):
    from cmkd_mmdet3d.utils import UnsafePickleError
    infos = _write_infos(tmp_path / 'infos.pkl', [_raw_info()])
    marker = tmp_path / 'pwned'
    path = tmp_path / 'latest.pkl'
    path.write_bytes(_evil_bytes(_System, marker, 5))
    ds = _raw_dataset(infos, lazy_init=True)
    ds.pseudo_labels = str(path)
    with pytest.raises(UnsafePickleError, match=str(path)):
        ds.current_pseudo_labels()
    msg = _run_tool(monkeypatch, 'export', '--cache', str(path), '--infos',
                    infos, '--out-dir', str(tmp_path / 'labels'))
    assert msg is not None and str(path) in msg and 'posix.system' in msg
    assert not marker.exists()
    assert not (tmp_path / 'labels').exists()


# ---------------------------------------------------------------------------
# 2. a cache made for another class list
def test_cache_with_another_class_list_is_refused_by_the_dataset(tmp_path):
    infos = _write_infos(tmp_path / 'infos.pkl',
                         [_raw_info(frame_id='f0')])
    ds = _raw_dataset(infos)
    other = ['Car', 'Pedestrian', 'Cyclist']
    bad = tmp_path / 'latest.pkl'
    bad.write_bytes(pickle.dumps(_cache(classes=other)))
    ds.pseudo_labels = str(bad)
    with pytest.raises(ValueError) as err:
        ds.get_data_info(0)
    msg = str(err.value)
    assert str(bad) in msg and str(other) in msg and str(CLASSES) in msg
    # a cache that does not say which classes its ids mean is refused too
    bad.write_bytes(pickle.dumps(dict(frames=_frames())))
    with pytest.raises(ValueError) as err:
        ds.get_data_info(0)
    msg = str(err.value)
    assert str(bad) in msg and 'classes None' in msg and str(CLASSES) in msg
    # the same cache with our class list labels the frame: label 2 is Car
    good = tmp_path / 'good.pkl'
    good.write_bytes(pickle.dumps(_cache()))
    ds.pseudo_labels = str(good)
    info = ds.get_data_info(0)
    assert info['has_labels'] is True
    assert info['ann_info']['gt_labels_3d'].tolist() == [2]
    np.testing.assert_allclose(info['ann_info']['gt_scores_3d'], [0.75])
    np.testing.assert_allclose(
        info['ann_info']['gt_bboxes_3d'].tensor.numpy()[0, :6],
        [10., 1., -1., 4., 1.8, 1.5], rtol=1e-6)


def test_export_refuses_classes_other_than_the_caches(tmp_path,
                                                      monkeypatch):
    infos = _write_infos(tmp_path / 'infos.pkl', [_raw_info(frame_id='f0')])
    cache = tmp_path / 'latest.pkl'
    cache.write_bytes(pickle.dumps(_cache()))
    other = ['Car', 'Pedestrian', 'Cyclist']
    msg = _run_tool(monkeypatch, 'export', '--cache', str(cache), '--infos',
                    infos, '--out-dir', str(tmp_path / 'labels'),
                    '--classes', *other)
    assert msg is not None
    assert str(cache) in msg and str(CLASSES) in msg and str(other) in msg
    assert not (tmp_path / 'labels').exists()
    # a cache without its class list needs --classes
    bare = tmp_path / 'bare.pkl'
    bare.write_bytes(pickle.dumps(dict(frames=_frames())))
    msg = _run_tool(monkeypatch, 'export', '--cache', str(bare), '--infos',
                    infos, '--out-dir', str(tmp_path / 'labels'))
    assert msg is not None and str(bare) in msg and '--classes' in msg
    # the cache's own list: one file, its box a Car
    msg = _run_tool(monkeypatch, 'export', '--cache', str(cache), '--infos',
                    infos, '--out-dir', str(tmp_path / 'labels'),
                    '--classes', *CLASSES)
    assert msg is None
    with open(tmp_path / 'labels' / 'f0.txt') as f:
        lines = f.read().split('\n')
    assert lines[0].split()[0] == 'Car' and lines[0].split()[-1] == '0.7500'


# ---------------------------------------------------------------------------
# 3. label files and info instances
GOOD = ('Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 '
        '1.71 46.70 -1.59 0.93')


PED = ('Pedestrian 0.00 0 0.21 423.17 173.67 433.17 224.03 1.60 0.38 0.30 '
       '-5.62 1.71 29.61 0.02 0.51')


DONTCARE = 'DontCare -1 -1 -10 -1 -1 -1 -1 -1 -1 -1 -1000 -1000 -1000 -10 0'


def _bad(line, col, value):
    cols = line.split()
    cols[col] = value
    return ' '.join(cols)


# columns: 0 type ... 8 h, 9 w, 10 l, ..., 15 score
@pytest.mark.parametrize('col,value,what', [
    (15, 'nan', 'score = nan'), (15, 'inf', 'score = inf'),
    (15, '-inf', 'score = -inf'), (8, '-1.65', 'h = -1.65'),
    (9, '0', 'w = 0.0'), (10, '-0.01', 'l = -0.01'),
    (12, 'nan', 'y = nan'), (11, 'abc', 'abc')
])
def test_import_refuses_bad_values_with_file_and_line(tmp_path, col, value,
                                                      what):
    from cmkd_mmdet3d.datasets.pseudo_labels import read_kitti_label_file
    path = tmp_path / 'f0.txt'
    path.write_text('\n'.join([GOOD, DONTCARE, _bad(GOOD, col, value),
                               PED]) + '\n')
    with pytest.raises(ValueError) as err:
        read_kitti_label_file(str(path), CLASSES)
    assert f'{path}:3:' in str(err.value) and what in str(err.value)
    # the same lines without the bad one parse, values as in the columns
    path.write_text('\n'.join([GOOD, DONTCARE, PED]) + '\n')
    inst = read_kitti_label_file(str(path), CLASSES)
    assert [i['bbox_label_3d'] for i in inst] == [2, 0]
    # bbox_3d: x, y, z, l, h, w, ry from columns 11-13, 10, 8, 9, 14
    assert inst[0]['bbox_3d'] == [-0.65, 1.71, 46.70, 3.64, 1.65, 1.67,
                                  -1.59]
    assert inst[0]['score'] == 0.93 and inst[1]['score'] == 0.51


def test_import_tool_refuses_a_nan_score_and_writes_nothing(tmp_path,
                                                            monkeypatch):
    infos = _write_infos(tmp_path / 'infos.pkl', [_raw_info(frame_id='f0'),
                                                  _raw_info(frame_id='f1')])
    labels = tmp_path / 'labels'
    labels.mkdir()
    (labels / 'f0.txt').write_text(GOOD + '\n')
    (labels / 'f1.txt').write_text(PED + '\n' + _bad(GOOD, 15, 'nan') + '\n')
    out = tmp_path / 'pseudo.pkl'
    msg = _run_tool(monkeypatch, 'import', '--label-dir', str(labels),
                    '--infos', infos, '--out', str(out))
    assert msg is not None and f'{labels / "f1.txt"}:2:' in msg
    assert 'score = nan' in msg
    assert not out.exists()
    (labels / 'f1.txt').write_text(PED + '\n')
    assert _run_tool(monkeypatch, 'import', '--label-dir', str(labels),
                     '--infos', infos, '--out', str(out)) is None
    import mmengine
    back = mmengine.load(str(out))
    assert [len(d['instances']) for d in back['data_list']] == [1, 1]


def test_label_2_with_a_negative_size_is_refused_before_conversion(
        tmp_path):
    from cmkd_mmdet3d.datasets.pseudo_labels import check_kitti_label_file
    from cmkd_mmdet3d.testing.synthetic.writer import create_kitti_infos
    good15 = ' '.join(GOOD.split()[:15])
    label_dir = tmp_path / 'training' / 'label_2'
    label_dir.mkdir(parents=True)
    ok = label_dir / '000000.txt'
    ok.write_text('\n'.join([good15, DONTCARE[:-2]]) + '\n')
    assert check_kitti_label_file(str(ok)) == 1     # DontCare not counted
    bad = label_dir / '000001.txt'
    bad.write_text('\n'.join([DONTCARE[:-2], good15,
                              _bad(good15, 9, '-1.67')]) + '\n')
    with pytest.raises(ValueError, match=f'{bad}:3: Car has w = -1.67'):
        check_kitti_label_file(str(bad))
    # the info writer refuses before mmdet3d's converter reads anything
    with pytest.raises(ValueError, match=f'{bad}:3:'):
        create_kitti_infos(str(tmp_path), with_gt_database=False)
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.pkl')]


@pytest.mark.parametrize('box,what', [
    ([1., 1.5, 20., 4., -1.5, 1.6, 0.], 'non-finite value or a size <= 0'),
    ([1., 1.5, 20., 4., 1.5, 0., 0.], 'non-finite value or a size <= 0'),
    ([1., float('nan'), 20., 4., 1.5, 1.6, 0.], 'non-finite value'),
])
def test_info_instances_with_bad_boxes_are_refused_by_the_dataset(
        tmp_path, box, what):
    good = dict(bbox=[0, 0, 10, 10], bbox_label=2, bbox_label_3d=2,
                bbox_3d=[1., 1.5, 20., 4., 1.5, 1.6, 0.], score=0.9,
                truncated=0., occluded=0, alpha=0.)
    dontcare = dict(good, bbox_label=-1, bbox_label_3d=-1,
                    bbox_3d=[-1000., -1000., -1000., -1., -1., -1., -10.])
    frames = [_raw_info(frame_id='a', instances=[good]),
              _raw_info(frame_id='b',
                        instances=[good, dontcare, dict(good, bbox_3d=box)])]
    infos = _write_infos(tmp_path / 'pseudo.pkl', frames)
    with pytest.raises(ValueError) as err:
        _raw_dataset(infos)
    msg = str(err.value)
    assert f'{infos}: frame b, instance 2:' in msg and what in msg
    # without the bad instance (DontCare's -1 sizes are fine) it loads
    frames[1]['instances'].pop()
    ds = _raw_dataset(_write_infos(tmp_path / 'ok.pkl', frames))
    assert len(ds) == 2
    assert ds.get_data_info(1)['ann_info']['gt_labels_3d'].tolist() == [2]


def test_info_instance_with_a_nan_score_is_refused(tmp_path):
    inst = dict(bbox=[0, 0, 10, 10], bbox_label=2, bbox_label_3d=2,
                bbox_3d=[1., 1.5, 20., 4., 1.5, 1.6, 0.],
                score=float('nan'))
    infos = _write_infos(tmp_path / 'p.pkl',
                         [_raw_info(frame_id='a', instances=[inst])])
    with pytest.raises(ValueError, match='frame a, instance 0: score nan'):
        _raw_dataset(infos)


def test_cache_with_a_non_finite_or_flat_box_is_refused(tmp_path):
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    for col, value in ((6, np.nan), (4, 0.), (5, -1.)):
        cache = _cache()
        cache['frames']['f0']['bboxes_3d'][0, col] = value
        path = tmp_path / f'c{col}.pkl'
        path.write_bytes(pickle.dumps(cache))
        with pytest.raises(ValueError, match=f'{path}: frame f0, box 0'):
            load_pseudo_labels(str(path))
    cache = _cache()
    cache['frames']['f0']['scores_3d'][0] = np.inf
    (tmp_path / 's.pkl').write_bytes(pickle.dumps(cache))
    with pytest.raises(ValueError, match='frame f0, box 0'):
        load_pseudo_labels(str(tmp_path / 's.pkl'))


def test_cache_with_labels_outside_its_class_list_is_refused(tmp_path):
    """A label -1 would be exported as the last class (Python indexing),
    a label 3 of 3 classes fail deep in the pipeline."""
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    for labels in ([-1], [3], [1.0]):
        cache = _cache()
        cache['frames']['f0']['labels_3d'] = np.array(labels)
        path = tmp_path / 'c.pkl'
        path.write_bytes(pickle.dumps(cache))
        with pytest.raises(ValueError, match=f'{path}: frame f0: labels'):
            load_pseudo_labels(str(path))
    cache['frames']['f0']['labels_3d'] = np.array([2])
    path.write_bytes(pickle.dumps(cache))
    assert load_pseudo_labels(str(path))['frames']['f0']['labels_3d'] == [2]
