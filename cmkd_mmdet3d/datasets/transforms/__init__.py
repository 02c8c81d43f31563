from .image_geometry import (depth_map_from_points, fov_mask,
                             mirror_through_image, project_to_image,
                             sparse_avg_pool, unproject_from_image)
from .transforms_3d import (FOVFilterPoints, ImageSpaceFlip3D, LoadDepthMap,
                            MakeDepthTarget, PackCMKDInputs,
                            ScaleImage3D, check_image_size)

__all__ = [
    'FOVFilterPoints', 'ImageSpaceFlip3D', 'LoadDepthMap', 'MakeDepthTarget',
    'PackCMKDInputs', 'ScaleImage3D', 'check_image_size',
    'depth_map_from_points', 'fov_mask',
    'mirror_through_image', 'project_to_image', 'sparse_avg_pool',
    'unproject_from_image'
]
