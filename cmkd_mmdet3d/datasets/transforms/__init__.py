from .image_geometry import (crop_flip_rotate_pixel_map, crop_intrinsics,
                             depth_map_from_points, mirror_through_image,
                             project_to_image, resize_pixel_map,
                             sample_bevdet_view_aug, scale_intrinsics,
                             sparse_avg_pool, unproject_from_image,
                             warp_intrinsics)
from .loading import LoadCalibratedImage
from .transforms_3d import (BEVAugToCameras, BEVDetImageAug3D, CropImage3D,
                            FOVFilterPoints, ImageSpaceFlip3D, LoadDepthMap,
                            MakeDepthTarget, ObjectFOVFilter, PackCMKDInputs,
                            ScaleImage3D, check_image_size, is_multiview)

# project_to_image / unproject_from_image: re-exported from
# cmkd_mmdet3d.structures.geometry (the FOV mask is there too)
__all__ = [
    'BEVAugToCameras', 'BEVDetImageAug3D', 'CropImage3D', 'FOVFilterPoints',
    'ImageSpaceFlip3D', 'LoadCalibratedImage', 'LoadDepthMap', 'MakeDepthTarget',
    'ObjectFOVFilter', 'PackCMKDInputs', 'ScaleImage3D', 'check_image_size',
    'is_multiview',
    'crop_flip_rotate_pixel_map', 'crop_intrinsics', 'depth_map_from_points',
    'mirror_through_image', 'project_to_image', 'resize_pixel_map',
    'sample_bevdet_view_aug', 'scale_intrinsics', 'sparse_avg_pool',
    'unproject_from_image', 'warp_intrinsics'
]
