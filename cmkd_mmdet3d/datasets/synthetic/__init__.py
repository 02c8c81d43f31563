"""A physically consistent synthetic driving world in the KITTI layout."""
from .frame import KITTI_IMG_SHAPE, Frame, make_frame
from .geometry import CALIB_DATES, Calibration, calibration_for_date
from .writer import (create_kitti_infos, generate_world, read_calib_txt,
                     write_calib_txt)

__all__ = [
    'KITTI_IMG_SHAPE', 'Frame', 'make_frame', 'CALIB_DATES', 'Calibration',
    'calibration_for_date', 'create_kitti_infos', 'generate_world',
    'read_calib_txt', 'write_calib_txt'
]
