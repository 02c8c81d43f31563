"""Test helpers shared by several test files."""
import os
import pickle
import shlex

import numpy as np


CLASSES = ['Pedestrian', 'Cyclist', 'Car']


def _kitti(root, pipeline, ann_file='kitti_infos_train.pkl', img=None,
           classes=CLASSES):
    return _build(dict(
        type='KittiDataset', data_root=root.rstrip('/') + '/',
        ann_file=ann_file,
        data_prefix=dict(pts='training/velodyne_reduced',
                         img=img or 'training/image_2'),
        modality=dict(use_lidar=True, use_camera=True), pipeline=pipeline,
        metainfo=dict(classes=list(classes))))


def _pipeline(*extra, stride=8):
    return [
        dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
             use_dim=4),
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations3D', with_bbox_3d=True,
             with_label_3d=True),
        dict(type='LoadDepthMap'),
        dict(type='FOVFilterPoints'),
        dict(type='MakeDepthTarget', stride=stride),
        *extra,
        dict(type='PackCMKDInputs',
             keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
    ]


def _foreign_infos(tmp_path, synthetic_world):
    good = open(os.path.join(synthetic_world, 'kitti_infos_train.pkl'),
                'rb').read()
    files = {
        'ints.pkl': pickle.dumps([1, 2, 3]),
        'no_data_list.pkl': pickle.dumps(dict(metainfo={})),
        'truncated.pkl': good[:len(good) // 2],
        'empty.pkl': b'',
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return [str(tmp_path / n) for n in files]


def _build(cfg):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    return DATASETS.build(cfg)


def _cache(classes=CLASSES, **meta):
    return dict(meta=dict(classes=list(classes), version='v0', **meta),
                frames=_frames(), failed={})


class _System:
    """Unpickles to ``os.system('touch path')``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f'touch {shlex.quote(self.path)}', ))


def _evil_bytes(payload_cls, marker, protocol):
    """A cache that looks valid, with the payload in its meta."""
    return pickle.dumps(_cache(note=payload_cls(marker)), protocol=protocol)


def _frames():
    return {
        'f0': dict(bboxes_3d=np.array([[10., 1., -1., 4., 1.8, 1.5, .3]],
                                      np.float32),
                   labels_3d=np.array([2]),
                   scores_3d=np.array([0.75], np.float32)),
        'f1': dict(bboxes_3d=np.zeros((0, 7), np.float32),
                   labels_3d=np.zeros(0, np.int64),
                   scores_3d=np.zeros(0, np.float32)),
    }


def _check_payload_is_real(payload_cls, tmp_path, protocol):
    """The same kind of bytes run their payload under a plain pickle."""
    control = tmp_path / f'control_{payload_cls.__name__}_{protocol}'
    pickle.loads(_evil_bytes(payload_cls, control, protocol))
    assert control.exists()


class _CreateFile:
    """Unpickles to ``open(path, 'w')``: creates the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, 'w'))


def _raw_dataset(root, ann_file):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    # LoadDepthMap: no depth_2 for raw frames, skipped
    pipeline = _pipeline()
    return DATASETS.build(dict(
        type='KittiRawDataset', data_root=root.rstrip('/') + '/',
        ann_file=ann_file, pipeline=pipeline,
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
