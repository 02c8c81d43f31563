"""Aligned 3D IoU of LiDAR boxes on any device (CPU included)."""
import torch
from torch import Tensor


def aligned_iou_3d(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """IoU of matching rows of two sets of LiDAR boxes.

    Args:
        boxes1, boxes2: (N, 7) ``(x, y, z_bottom, dx, dy, dz, yaw)`` boxes in
            mmdet3d's LiDAR convention (yaw counter-clockwise from +x).

    Returns:
        Tensor: (N,) IoU in [0, 1]. Built on ``mmcv.ops.box_iou_rotated``
        (aligned mode), which has CPU and CUDA kernels, so it runs where
        mmcv's CUDA-only ``boxes_overlap_bev`` does not.
    """
    from mmcv.ops import box_iou_rotated
    if boxes1.shape != boxes2.shape or boxes1.shape[-1] < 7:
        raise ValueError(f'expected two (N, 7) tensors, got '
                         f'{tuple(boxes1.shape)} and {tuple(boxes2.shape)}')
    if len(boxes1) == 0:
        return boxes1.new_zeros(0)
    b1, b2 = boxes1.float(), boxes2.float()
    bev1 = b1[:, [0, 1, 3, 4, 6]]
    bev2 = b2[:, [0, 1, 3, 4, 6]]
    # a counter-clockwise yaw in a y-up frame is mmcv's clockwise=True
    iof = box_iou_rotated(bev1, bev2, mode='iof', aligned=True, clockwise=True)
    inter_area = iof * b1[:, 3] * b1[:, 4]
    top = torch.minimum(b1[:, 2] + b1[:, 5], b2[:, 2] + b2[:, 5])
    bottom = torch.maximum(b1[:, 2], b2[:, 2])
    inter = inter_area * (top - bottom).clamp(min=0)
    vol1 = b1[:, 3] * b1[:, 4] * b1[:, 5]
    vol2 = b2[:, 3] * b2[:, 4] * b2[:, 5]
    return (inter / (vol1 + vol2 - inter).clamp(min=1e-6)).clamp(0, 1)
