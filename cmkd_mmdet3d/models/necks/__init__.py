from .depth_lift_neck import DepthLiftNeck

__all__ = ['DepthLiftNeck']
