"""PseudoLabelHook on the raw part of the synthetic world, with a toy
labeler whose boxes and scores are a known function of the frame's points:
one cache entry per frame, per-class thresholds, dataset injection, resume
after a kill, and the export / import round trip of the label files."""
import os
import pickle
import types

import numpy as np
import pytest
import torch
from _helpers.datasets import _CreateFile, _frames


CLASSES = ['Pedestrian', 'Cyclist', 'Car']


THR = dict(Pedestrian=0.3, Cyclist=0.5, Car=0.6)


class _Pre(torch.nn.Module):
    """Stack the points of a batch (no voxels: no range filter)."""

    def forward(self, data, training=False):
        return dict(inputs=dict(points=data['inputs']['points']),
                    data_samples=data['data_samples'])


def toy_predictions(points: np.ndarray, scale: float):
    """Six boxes per frame (two per class), scores a function of the
    frame's points; the hook must keep those at or above their class
    threshold."""
    s = float(np.abs(points[:, :3]).mean()) * scale
    scores = (s + np.arange(6) / 6.0) % 1.0
    labels = np.array([0, 1, 2, 0, 1, 2])
    boxes = np.stack([
        np.array([10.0 + 3 * i, -4.0 + i, -1.5, 3.9, 1.6, 1.5, 0.1 * i])
        for i in range(6)
    ]).astype(np.float32)
    return boxes, labels, scores.astype(np.float32)


class ToyLabeler(torch.nn.Module):

    def __init__(self, fail_after=None):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.37),
                                        requires_grad=False)
        self.data_preprocessor = _Pre()
        self.seen = 0
        self.fail_after = fail_after

    def forward(self, inputs, data_samples, mode='predict'):
        from mmdet3d.structures import LiDARInstance3DBoxes
        from mmengine.structures import InstanceData
        for pts, sample in zip(inputs['points'], data_samples):
            if self.fail_after is not None and self.seen >= self.fail_after:
                raise KeyboardInterrupt('killed')
            self.seen += 1
            b, lab, sc = toy_predictions(pts.numpy(), float(self.scale))
            sample.pred_instances_3d = InstanceData(
                bboxes_3d=LiDARInstance3DBoxes(torch.from_numpy(b)),
                labels_3d=torch.from_numpy(lab),
                scores_3d=torch.from_numpy(sc))
        return data_samples


def _raw_dataset(world):
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    from cmkd_mmdet3d.datasets import KittiRawDataset
    return KittiRawDataset(
        data_root=os.path.join(world, 'raw') + '/',
        ann_file='kitti_infos_eigen_clean.pkl', pipeline=[],
        metainfo=dict(classes=CLASSES), box_type_3d='LiDAR')


def _runner(ds, labeler, work_dir):
    from mmengine.logging import MMLogger
    model = types.SimpleNamespace(teacher=labeler,
                                  parameters=labeler.parameters)
    return types.SimpleNamespace(
        model=model, work_dir=str(work_dir), epoch=0,
        train_dataloader=types.SimpleNamespace(
            dataset=types.SimpleNamespace(datasets=[ds])),
        logger=MMLogger.get_instance('test_pseudo_label_hook'))


def _expected(ds):
    """Plain recomputation: points of each frame, FOV-filtered as the hook's
    pipeline does, through toy_predictions and the thresholds."""
    from cmkd_mmdet3d.engine.hooks.pseudo_label_hook import (
        DEFAULT_PIPELINE, _LabelingSet)
    view = _LabelingSet(ds, list(range(len(ds))), DEFAULT_PIPELINE)
    out = {}
    for i in range(len(ds)):
        item = view[i]
        pts = item['inputs']['points'].numpy()
        b, lab, sc = toy_predictions(pts, 0.37)
        keep = [j for j in range(6) if sc[j] >= THR[CLASSES[lab[j]]]]
        out[item['key']] = (b[keep], lab[keep], sc[keep])
    return out


def test_one_entry_per_frame_thresholds_and_dataset(synthetic_world,
                                                    tmp_path):
    from cmkd_mmdet3d.engine.hooks import PseudoLabelHook
    ds = _raw_dataset(synthetic_world)
    hook = PseudoLabelHook(score_thr=THR, chunk_size=2)
    labeler = ToyLabeler()
    latest = hook.label(_runner(ds, labeler, tmp_path))
    assert labeler.seen == len(ds) == 3
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    cache = load_pseudo_labels(latest)
    expected = _expected(ds)
    assert set(cache['frames']) == set(expected)
    kept = 0
    for key, (b, lab, sc) in expected.items():
        got = cache['frames'][key]
        np.testing.assert_allclose(got['bboxes_3d'], b, atol=1e-6)
        np.testing.assert_array_equal(got['labels_3d'], lab)
        np.testing.assert_allclose(got['scores_3d'], sc, atol=1e-6)
        thr = np.array([THR[CLASSES[c]] for c in got['labels_3d']])
        assert (got['scores_3d'] >= thr).all()
        kept += len(lab)
    assert 0 < kept < 6 * len(ds)          # the thresholds did something
    # the versioned folder holds the merged labels and a manifest
    vdir = os.path.join(tmp_path, 'pseudo_labels',
                        cache['meta']['version'])
    assert os.path.exists(os.path.join(vdir, 'manifest.json'))
    # the dataset now serves them as ground truth with scores
    assert ds.pseudo_labels == latest
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        b, lab, sc = expected[ds.frame_key(info)]
        assert info['has_labels'] is True
        np.testing.assert_allclose(info['ann_info']['gt_bboxes_3d'].tensor,
                                   b, atol=1e-6)
        np.testing.assert_array_equal(info['ann_info']['gt_labels_3d'], lab)
        np.testing.assert_allclose(info['gt_scores_3d'], sc, atol=1e-6)
    # the same teacher again: same version, nothing recomputed
    again = ToyLabeler()
    hook2 = PseudoLabelHook(score_thr=THR, chunk_size=2)
    hook2.label(_runner(_raw_dataset(synthetic_world), again, tmp_path))
    assert again.seen == 0


def test_resumed_hook_skips_finished_frames(synthetic_world, tmp_path):
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    from cmkd_mmdet3d.engine.hooks import PseudoLabelHook
    ds = _raw_dataset(synthetic_world)
    killed = ToyLabeler(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        PseudoLabelHook(score_thr=THR, chunk_size=1).label(
            _runner(ds, killed, tmp_path))
    root = os.path.join(tmp_path, 'pseudo_labels')
    assert not os.path.exists(os.path.join(root, 'latest.pkl'))
    resumed = ToyLabeler()
    latest = PseudoLabelHook(score_thr=THR, chunk_size=1).label(
        _runner(_raw_dataset(synthetic_world), resumed, tmp_path))
    assert resumed.seen == 1                      # only the unfinished frame
    fresh_dir = tmp_path / 'fresh'
    fresh = PseudoLabelHook(score_thr=THR).label(
        _runner(_raw_dataset(synthetic_world), ToyLabeler(), fresh_dir))
    a, b = load_pseudo_labels(latest), load_pseudo_labels(fresh)
    assert set(a['frames']) == set(b['frames'])
    for k in a['frames']:
        for f in ('bboxes_3d', 'labels_3d', 'scores_3d'):
            np.testing.assert_array_equal(a['frames'][k][f],
                                          b['frames'][k][f])


def test_export_import_round_trip(synthetic_world, tmp_path):
    import mmengine
    from cmkd_mmdet3d.datasets import (KittiRawDataset, export_kitti_labels,
                                       import_kitti_labels,
                                       load_pseudo_labels)
    ds = _raw_dataset(synthetic_world)
    latest = PseudoLabelHook_label(ds, tmp_path)
    cache = load_pseudo_labels(latest)
    # one frame without boxes: written as DontCare, read back empty
    empty_key = sorted(cache['frames'])[0]
    cache['frames'][empty_key] = dict(
        bboxes_3d=np.zeros((0, 7), np.float32),
        labels_3d=np.zeros(0, np.int64), scores_3d=np.zeros(0, np.float32))
    infos_path = os.path.join(synthetic_world, 'raw',
                              'kitti_infos_eigen_clean.pkl')
    infos = mmengine.load(infos_path)
    out_dir = str(tmp_path / 'labels')
    assert export_kitti_labels(cache, infos['data_list'], out_dir,
                               CLASSES) == len(ds)
    files = [os.path.join(r, f) for r, _, fs in os.walk(out_dir)
             for f in fs]
    assert len(files) == len(ds)
    assert all('/label_02/' in f for f in files)
    rows = [ln.split() for f in files for ln in open(f)]
    assert all(len(r) == 16 for r in rows)
    assert sum(r[0] == 'DontCare' for r in rows) == 1
    back = import_kitti_labels(infos, out_dir, CLASSES)
    new_infos = str(tmp_path / 'pseudo_infos.pkl')
    mmengine.dump(back, new_infos)
    ds2 = KittiRawDataset(
        data_root=os.path.join(synthetic_world, 'raw') + '/',
        ann_file=new_infos, pipeline=[], metainfo=dict(classes=CLASSES),
        box_type_3d='LiDAR')
    for i in range(len(ds2)):
        info = ds2.get_data_info(i)
        want = cache['frames'][ds2.frame_key(info)]
        assert info['has_labels'] is True
        ann = info['ann_info']
        got = ann['gt_bboxes_3d'].tensor.numpy()
        assert got.shape == want['bboxes_3d'].shape
        np.testing.assert_allclose(got[:, :6], want['bboxes_3d'][:, :6],
                                   atol=2e-4)
        dyaw = (got[:, 6] - want['bboxes_3d'][:, 6] + np.pi) % (2 * np.pi)
        np.testing.assert_allclose(dyaw, np.pi, atol=2e-4)
        np.testing.assert_array_equal(ann['gt_labels_3d'],
                                      want['labels_3d'])
        np.testing.assert_allclose(info['gt_scores_3d'], want['scores_3d'],
                                   atol=1e-4)


def PseudoLabelHook_label(ds, work_dir):
    from cmkd_mmdet3d.engine.hooks import PseudoLabelHook
    return PseudoLabelHook(score_thr=THR).label(
        _runner(ds, ToyLabeler(), work_dir))


def test_thresholds_and_selection_by_hand():
    from cmkd_mmdet3d.datasets import class_thresholds, select_pseudo_boxes
    np.testing.assert_allclose(class_thresholds(THR, CLASSES),
                               [0.3, 0.5, 0.6])
    np.testing.assert_allclose(class_thresholds(0.2, CLASSES), [0.2] * 3)
    with pytest.raises(KeyError, match='Truck'):
        class_thresholds(dict(THR, Truck=0.1), CLASSES)
    with pytest.raises(KeyError, match='missing classes'):
        class_thresholds(dict(Car=0.1), CLASSES)
    boxes = np.zeros((5, 7), np.float32)
    boxes[:, 0] = [5, 5, 5, 60, 5]         # the 4th is out of range
    out = select_pseudo_boxes(boxes, [0, 1, 2, 2, 7],
                              [0.3, 0.49, 0.9, 0.9, 0.9],
                              np.array([0.3, 0.5, 0.6]), [0, -40, 50, 40])
    # kept: #0 (0.3 >= 0.3), #2; dropped: #1 (< 0.5), #3 (range), #4 (class)
    np.testing.assert_array_equal(out['labels_3d'], [0, 2])
    np.testing.assert_allclose(out['scores_3d'], [0.3, 0.9])


def test_corrupt_frame_is_reported_and_skipped(synthetic_world, tmp_path):
    """A sweep that cannot be read is recorded as failed (not retried by a
    resumed run) and the other frames are labeled."""
    import shutil
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    from cmkd_mmdet3d.engine.hooks import PseudoLabelHook
    world = tmp_path / 'world'
    shutil.copytree(os.path.join(synthetic_world, 'raw'), world / 'raw')
    ds = _raw_dataset(str(world))
    bad = ds.get_data_info(1)['lidar_points']['lidar_path']
    with open(bad, 'ab') as f:
        f.write(b'xyz')                     # not N x 4 float32 any more
    labeler = ToyLabeler()
    hook = PseudoLabelHook(score_thr=THR)
    cache = load_pseudo_labels(hook.label(_runner(ds, labeler,
                                                  tmp_path / 'w')))
    bad_key = ds.frame_key(ds.get_data_info(1))
    assert labeler.seen == 2
    assert set(cache['failed']) == {bad_key}
    assert bad_key not in cache['frames'] and len(cache['frames']) == 2
    assert hook.last_round['failed'] == 1


_DIST_SCRIPT = '''
import os, sys
sys.path[:0] = [{tests!r}, {tests_root!r}]   # this file's folder, _helpers
import torch.distributed as dist
from mmengine.dist import get_rank
dist.init_process_group(backend='gloo')   # torchrun's environment
from test_pseudo_label_hook import ToyLabeler, _raw_dataset, _runner, THR
from cmkd_mmdet3d.engine.hooks import PseudoLabelHook
ds = _raw_dataset({world!r})
labeler = ToyLabeler()
latest = PseudoLabelHook(score_thr=THR, chunk_size=1).label(
    _runner(ds, labeler, {work!r}))
ok = ds.pseudo_labels == latest
with open(os.path.join({work!r}, f'rank{{get_rank()}}.txt'), 'w') as f:
    f.write(f'RANK {{get_rank()}} SEEN {{labeler.seen}} SET {{ok}}')
'''


def test_ranks_split_the_frames(synthetic_world, tmp_path):
    """Two CPU processes (gloo): each labels its share, rank 0 merges, both
    datasets get the labels."""
    import re
    import sys
    from conftest import REPO_ROOT, run
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    script = tmp_path / 'label.py'
    script.write_text(_DIST_SCRIPT.format(
        tests=os.path.dirname(os.path.abspath(__file__)),
        tests_root=os.path.join(REPO_ROOT, 'tests'),
        world=synthetic_world, work=str(tmp_path / 'w')))
    env = dict(os.environ, OMP_NUM_THREADS='1', MASTER_PORT='29741',
               PYTHONPATH=os.pathsep.join(
                   [REPO_ROOT, os.environ.get('PYTHONPATH', '')]))
    proc = run([sys.executable, '-m', 'torch.distributed.run',
                '--nproc_per_node', '2', '--master_port', '29741',
                str(script)], cwd=str(tmp_path), env=env, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, '\n'.join(
        ln for ln in out.splitlines() if 'rank1]' not in ln)[-3000:]
    text = ''.join((tmp_path / 'w' / f'rank{r}.txt').read_text()
                   for r in (0, 1))
    seen = {int(r): (int(n), s) for r, n, s in
            re.findall(r'RANK (\d) SEEN (\d+) SET (True|False)', text)}
    assert seen == {0: (2, 'True'), 1: (1, 'True')}
    cache = load_pseudo_labels(
        str(tmp_path / 'w' / 'pseudo_labels' / 'latest.pkl'))
    assert len(cache['frames']) == 3


def test_relabels_every_interval_when_the_teacher_changes(synthetic_world,
                                                          tmp_path):
    """interval=2: epochs 0 and 2 label; an unchanged teacher is not run
    again, a changed one gives a new version that the dataset picks up."""
    from cmkd_mmdet3d.engine.hooks import PseudoLabelHook
    ds = _raw_dataset(synthetic_world)
    labeler = ToyLabeler()
    runner = _runner(ds, labeler, tmp_path)
    hook = PseudoLabelHook(score_thr=THR, interval=2)
    hook.before_train(runner)
    hook.before_train_epoch(runner)          # epoch 0 again: nothing
    assert labeler.seen == 3
    first = hook.last_round['version']
    before = {k: v['scores_3d'].copy()
              for k, v in ds.current_pseudo_labels().items()}
    runner.epoch = 1
    hook.before_train_epoch(runner)          # not a multiple of 2
    runner.epoch = 2
    hook.before_train_epoch(runner)          # same teacher: cached
    assert labeler.seen == 3 and hook.last_round['version'] == first
    with torch.no_grad():
        labeler.scale.fill_(0.11)            # the teacher changed
    runner.epoch = 4
    hook.before_train_epoch(runner)
    assert labeler.seen == 6 and hook.last_round['version'] != first
    after = ds.current_pseudo_labels()       # re-read from latest.pkl
    assert any(len(after[k]['scores_3d']) != len(before[k]) or
               not np.allclose(after[k]['scores_3d'], before[k])
               for k in before)


def test_cache_with_an_empty_frame_loads_and_bad_caches_fail(tmp_path):
    """A frame where the teacher found nothing is a valid entry; a cache
    whose lengths disagree or that is not a cache names the file."""
    from cmkd_mmdet3d.datasets import load_pseudo_labels, select_pseudo_boxes
    from cmkd_mmdet3d.datasets.pseudo_labels import atomic_pickle
    empty = select_pseudo_boxes(np.zeros((0, 7)), [], [],
                                np.array([0.1, 0.1, 0.1]))
    good = dict(frames=dict(a=empty, b=dict(
        bboxes_3d=np.ones((2, 7), np.float32), labels_3d=np.array([0, 2]),
        scores_3d=np.array([0.5, 0.7], np.float32))))
    atomic_pickle(good, str(tmp_path / 'good.pkl'))
    back = load_pseudo_labels(str(tmp_path / 'good.pkl'))
    assert len(back['frames']['a']['labels_3d']) == 0
    assert back['frames']['b']['bboxes_3d'].shape == (2, 7)
    bad = dict(frames=dict(b=dict(good['frames']['b'],
                                  scores_3d=np.array([0.5]))))
    atomic_pickle(bad, str(tmp_path / 'bad.pkl'))
    with pytest.raises(ValueError, match='bad.pkl: frame b'):
        load_pseudo_labels(str(tmp_path / 'bad.pkl'))
    (tmp_path / 'junk.pkl').write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='junk.pkl'):
        load_pseudo_labels(str(tmp_path / 'junk.pkl'))


def test_crafted_shard_is_refused_by_the_hook(tmp_path):
    """``part-*.pkl`` shards of an interrupted round are read on resume."""
    from cmkd_mmdet3d.engine.hooks.pseudo_label_hook import PseudoLabelHook
    from cmkd_mmdet3d.utils import UnsafePickleError
    vdir = tmp_path / 'v'
    vdir.mkdir()
    marker = tmp_path / 'pwned'
    shard = vdir / 'part-00000000000000000001-r0.pkl'
    shard.write_bytes(pickle.dumps(dict(frames=_frames(),
                                        failed={'x': _CreateFile(marker)})))
    with pytest.raises(UnsafePickleError, match=str(shard)):
        PseudoLabelHook()._finished_keys(str(vdir))
    assert not marker.exists()
    shard.write_bytes(pickle.dumps(dict(frames=_frames(), failed={})))
    assert PseudoLabelHook()._finished_keys(str(vdir)) == {'f0', 'f1'}


def test_hook_refuses_datasets_with_different_class_lists():
    import types
    from cmkd_mmdet3d.engine.hooks.pseudo_label_hook import PseudoLabelHook

    class KittiRawDataset:  # the hook finds datasets by class name
        def __init__(self, classes):
            self.metainfo = dict(classes=classes)

    a, b = KittiRawDataset(CLASSES), KittiRawDataset(['Car'])
    concat = types.SimpleNamespace(datasets=[a, b])
    runner = types.SimpleNamespace(
        epoch=0, train_dataloader=types.SimpleNamespace(dataset=concat))
    with pytest.raises(ValueError) as err:
        PseudoLabelHook().label(runner)
    assert str(CLASSES) in str(err.value) and "['Car']" in str(err.value)
