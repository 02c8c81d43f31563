from .box_iou import aligned_iou_3d
from .config_checks import (check_depth_bins, check_num_bins,
                            check_voxel_grid)
from .depth_bins import (DepthBins, bin_depths, bin_edges,
                         one_hot_depth_logits)
from .frustum_lift import (frustum_mask, lift_cameras_to_voxels,
                           lift_frustum_to_voxels,
                           lift_frustum_to_voxels_reference, voxel_centers)

__all__ = [
    'DepthBins', 'aligned_iou_3d', 'check_depth_bins', 'check_num_bins',
    'check_voxel_grid', 'bin_depths', 'bin_edges', 'frustum_mask',
    'lift_cameras_to_voxels', 'lift_frustum_to_voxels',
    'lift_frustum_to_voxels_reference', 'one_hot_depth_logits',
    'voxel_centers'
]
