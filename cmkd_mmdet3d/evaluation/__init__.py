"""Metrics and evaluation helpers of the plugin; importing it registers
:class:`~cmkd_mmdet3d.evaluation.waymo_metric.WaymoAPMetric`."""
from . import waymo_metric  # noqa: F401
from .waymo_metric import WaymoAPMetric

__all__ = ['WaymoAPMetric']
