from .iou_aware_anchor3d_head import IoUAwareAnchor3DHead

__all__ = ['IoUAwareAnchor3DHead']
