from .box_iou import aligned_iou_3d

__all__ = ['aligned_iou_3d']
