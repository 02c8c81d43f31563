from .depth_distribution_net import DepthDistributionNet

__all__ = ['DepthDistributionNet']
