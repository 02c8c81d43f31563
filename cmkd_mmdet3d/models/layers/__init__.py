from .sc_bottleneck import SCBottleneck, SCConv

__all__ = ['SCBottleneck', 'SCConv']
