from .object_depth import (ObjectDepthHead, gaussian_depth_bins,
                           geometric_depth, mix_depth_logits,
                           object_depth_targets)
from .sc_bottleneck import SCBottleneck, SCConv

__all__ = [
    'ObjectDepthHead', 'gaussian_depth_bins', 'geometric_depth',
    'mix_depth_logits', 'object_depth_targets', 'SCBottleneck', 'SCConv'
]
