"""Helpers for tests and benchmarks: small batches from a KITTI-format root.

The synthetic KITTI-format world that tests and demos run on is
:mod:`cmkd_mmdet3d.testing.synthetic` (imported on its own).
"""
from typing import List, Sequence

from mmengine.dataset import pseudo_collate


def kitti_lidar_batch(data_root: str,
                      point_cloud_range: Sequence[float],
                      indices: List[int],
                      ann_file: str = 'kitti_infos_train.pkl',
                      with_image: bool = False) -> dict:
    """Collated (not yet preprocessed) samples with points, GT boxes and
    labels (and the image), as a model's ``data_preprocessor`` expects."""
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    pipeline = [
        dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
             use_dim=4),
        dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
        dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
        dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    ]
    keys = ['points', 'gt_bboxes_3d', 'gt_labels_3d']
    if with_image:
        pipeline.insert(1, dict(type='LoadImageFromFile'))
        keys.append('img')
    pipeline.append(dict(type='Pack3DDetInputs', keys=keys))
    dataset = DATASETS.build(dict(
        type='KittiDataset', data_root=data_root.rstrip('/') + '/',
        ann_file=ann_file,
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=with_image),
        pipeline=pipeline,
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
    return pseudo_collate([dataset[i] for i in indices])
