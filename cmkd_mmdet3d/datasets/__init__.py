from . import transforms  # noqa: F401
from .kitti_raw import (KittiRawDataset, create_kitti_raw_infos,
                        read_raw_calib)

__all__ = ['KittiRawDataset', 'create_kitti_raw_infos', 'read_raw_calib']
