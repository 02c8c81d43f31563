from .cmkd_anchor3d_head import CMKDAnchor3DHead, class_agnostic_nms
from .iou_aware_anchor3d_head import IoUAwareAnchor3DHead

__all__ = ['CMKDAnchor3DHead', 'IoUAwareAnchor3DHead', 'class_agnostic_nms']
