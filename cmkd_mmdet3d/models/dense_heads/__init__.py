from .cmkd_anchor3d_head import CMKDAnchor3DHead, class_agnostic_nms
from .cmkd_center_head import CMKDCenterHead
from .iou_aware_anchor3d_head import IoUAwareAnchor3DHead
from .score_weighted_anchor3d_head import (ScoreWeightedAnchor3DHead,
                                           pseudo_label_weight)

__all__ = [
    'CMKDAnchor3DHead', 'CMKDCenterHead', 'IoUAwareAnchor3DHead',
    'ScoreWeightedAnchor3DHead', 'class_agnostic_nms', 'pseudo_label_weight'
]
