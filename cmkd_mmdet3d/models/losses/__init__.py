from .depth_focal_loss import DepthFocalLoss, depth_focal_loss
from .distill_losses import (BEVFeatureDistillLoss, SoftBoxRegressionLoss,
                             SoftCenterRegressionLoss, SoftDirectionLoss,
                             SoftHeatmapLoss, SoftQualityFocalLoss,
                             add_sin_difference, bev_box_mask,
                             teacher_confidence_weights)

__all__ = [
    'BEVFeatureDistillLoss', 'DepthFocalLoss', 'SoftBoxRegressionLoss',
    'SoftCenterRegressionLoss', 'SoftDirectionLoss', 'SoftHeatmapLoss',
    'SoftQualityFocalLoss', 'add_sin_difference', 'bev_box_mask',
    'depth_focal_loss', 'teacher_confidence_weights'
]
