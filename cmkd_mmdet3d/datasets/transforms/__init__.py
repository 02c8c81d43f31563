from .image_geometry import (crop_intrinsics, depth_map_from_points,
                             mirror_through_image, project_to_image,
                             scale_intrinsics, sparse_avg_pool,
                             unproject_from_image)
from .loading import LoadCalibratedImage
from .transforms_3d import (BEVAugToCameras, CropImage3D, FOVFilterPoints,
                            ImageSpaceFlip3D, LoadDepthMap, MakeDepthTarget,
                            ObjectFOVFilter, PackCMKDInputs, ScaleImage3D,
                            check_image_size, is_multiview)

# project_to_image / unproject_from_image: re-exported from
# cmkd_mmdet3d.structures.geometry (the FOV mask is there too)
__all__ = [
    'BEVAugToCameras', 'CropImage3D', 'FOVFilterPoints', 'ImageSpaceFlip3D',
    'LoadCalibratedImage', 'LoadDepthMap', 'MakeDepthTarget',
    'ObjectFOVFilter', 'PackCMKDInputs', 'ScaleImage3D', 'check_image_size',
    'is_multiview',
    'crop_intrinsics', 'depth_map_from_points', 'mirror_through_image',
    'project_to_image', 'scale_intrinsics', 'sparse_avg_pool',
    'unproject_from_image'
]
