"""cmkd_mmdet3d: CMKD (cross-modality knowledge distillation for monocular 3D
object detection, Hong, Dai and Ding, ECCV 2022) as an MMDetection3D 1.4
plugin.

Importing the package (configs do it through
``custom_imports=dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)``)
applies the compatibility shims of :mod:`cmkd_mmdet3d.compat` and registers
every module of the plugin into mmdet3d's registries (MODELS, DATASETS,
TRANSFORMS, HOOKS, METRICS, TASK_UTILS, INFERENCERS).
"""
from . import compat
from .version import __version__

compat.apply_all()

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401,I001,E501
from . import apis  # noqa: E402,F401,I001  (the inferencer; needs the above)

__all__ = ['__version__', 'apis', 'compat', 'datasets', 'engine',
           'evaluation', 'models', 'visualization']
