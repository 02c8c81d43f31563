"""Shared structures of the plugin; :mod:`.geometry` is the one place for
projection, the FOV mask, grid sizes and BEV cell centres, :mod:`.calibration`
for reading, making and checking the calibration of one image."""
from .calibration import (KITTI_LIDAR_HEIGHT, calib_from_intrinsics,
                          calib_from_kitti, check_calib_fits_image,
                          read_kitti_calib)
from .geometry import (GRID_TOLERANCE, bev_augmentation_matrix,
                       bev_cell_centers, box_foreground_mask,
                       box_instance_maps, cell_centers,
                       check_calibration, compose_lidar2img, fov_mask,
                       grid_size, points_in_fov, project_points,
                       project_to_image, to_homogeneous, transform_points,
                       unproject_from_image)

__all__ = [
    'KITTI_LIDAR_HEIGHT', 'calib_from_intrinsics', 'calib_from_kitti',
    'check_calib_fits_image', 'read_kitti_calib',
    'GRID_TOLERANCE', 'bev_augmentation_matrix', 'bev_cell_centers',
    'box_foreground_mask', 'box_instance_maps',
    'cell_centers', 'check_calibration',
    'compose_lidar2img', 'fov_mask', 'grid_size', 'points_in_fov',
    'project_points', 'project_to_image', 'to_homogeneous',
    'transform_points', 'unproject_from_image'
]
