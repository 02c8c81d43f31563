from .pillar_scatter_conv import PointPillarsScatterConv

__all__ = ['PointPillarsScatterConv']
