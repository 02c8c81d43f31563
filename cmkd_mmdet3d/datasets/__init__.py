from . import transforms  # noqa: F401
from .kitti_raw import (KittiRawDataset, create_kitti_raw_infos,
                        read_raw_calib)
from .pseudo_labels import (class_thresholds, export_kitti_labels,
                            import_kitti_labels, load_pseudo_labels,
                            select_pseudo_boxes)
from .samplers import MixedBatchSampler, mixed_batches

__all__ = [
    'KittiRawDataset', 'create_kitti_raw_infos', 'read_raw_calib',
    'class_thresholds', 'select_pseudo_boxes', 'load_pseudo_labels',
    'export_kitti_labels', 'import_kitti_labels', 'MixedBatchSampler',
    'mixed_batches'
]
