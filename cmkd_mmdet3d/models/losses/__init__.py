from .depth_focal_loss import DepthFocalLoss, depth_focal_loss

__all__ = ['DepthFocalLoss', 'depth_focal_loss']
