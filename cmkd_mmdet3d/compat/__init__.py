"""Compatibility shims for the pinned OpenMMLab stack on current torch,
numpy and spconv: one module per shim, so that a shim is deleted as one
file when upstream fixes its problem.

``import cmkd_mmdet3d`` calls :func:`apply_all`, so every config that lists
``custom_imports=dict(imports=['cmkd_mmdet3d'])`` and every script of this
project gets them. Each shim is idempotent, narrow and tested on its own
(``tests/test_compat.py``):

- :mod:`.checkpoint`: safe checkpoint loading under torch >= 2.6 (an
  allowlist unpickler instead of switching torch's weights-only check
  off), truncated files
  named;
- ``mmengine.load`` of ``.pkl`` files through the data-file allowlist
  (:func:`cmkd_mmdet3d.utils.safe_pickle.patch_mmengine_pickle_handler`);
- :mod:`cmkd_mmdet3d.evaluation.rotate_iou`: KITTI evaluation without CUDA
  (mmdet3d's rotated IoU is a ``numba.cuda`` kernel);
- :mod:`.numpy_long`: ``np.long`` for mmdet3d's GT sampler;
- :mod:`.config_scope`: ``cmkd_mmdet3d::`` config paths;
- :mod:`.atomic_checkpoint`: checkpoints written atomically;
- :mod:`.spconv_cpu`: spconv's sparse-conv backward on CPU, and its racy
  CPU scatter-add replaced;
- :func:`cmkd_mmdet3d.datasets.checks.install_input_checks`: errors that
  name the file from mmdet3d's stock loaders;
- :mod:`.nuscenes_empty`: the nuScenes devkit's evaluation of a prediction
  set without any box (AP 0 instead of an exception);
- :mod:`.cpu_distributed`: ``--launcher pytorch`` without CUDA (called by
  ``tools/train.py`` / ``tools/test.py``, not by :func:`apply_all`).
"""
from ..evaluation.rotate_iou import (install_rotate_iou, rotate_iou_cpu,
                                     rotate_iou_eval)
from ..utils.safe_pickle import patch_mmengine_pickle_handler
from .atomic_checkpoint import patch_atomic_local_put
from .checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                         last_loaded_checkpoint, load_from_local_safe,
                         register_safe_checkpoint_loader,
                         safe_load_checkpoint)
from .config_scope import register_config_scope
from .cpu_distributed import setup_cpu_distributed
from .numpy_long import patch_numpy_long
from .nuscenes_empty import patch_nuscenes_empty_predictions
from .spconv_cpu import (patch_spconv_cpu_backward,
                         patch_spconv_cpu_scatter_add, spconv_scatter_add_cpu)

__all__ = [
    'UnsafeCheckpointError', 'CorruptCheckpointError', 'safe_load_checkpoint',
    'last_loaded_checkpoint', 'load_from_local_safe',
    'register_safe_checkpoint_loader', 'rotate_iou_cpu', 'rotate_iou_eval',
    'install_rotate_iou', 'patch_numpy_long', 'setup_cpu_distributed',
    'register_config_scope', 'patch_atomic_local_put',
    'patch_spconv_cpu_backward', 'patch_spconv_cpu_scatter_add',
    'spconv_scatter_add_cpu', 'patch_mmengine_pickle_handler',
    'patch_nuscenes_empty_predictions', 'apply_all'
]

_APPLIED = False


def apply_all() -> None:
    """Apply every shim once (called by ``import cmkd_mmdet3d``)."""
    global _APPLIED
    if _APPLIED:
        return
    register_safe_checkpoint_loader()
    patch_mmengine_pickle_handler()
    install_rotate_iou()
    patch_numpy_long()
    register_config_scope()
    patch_atomic_local_put()
    patch_spconv_cpu_backward()
    patch_spconv_cpu_scatter_add()
    patch_nuscenes_empty_predictions()
    # imported here, not at the top: the datasets package imports mmdet3d
    from ..datasets.checks import install_input_checks
    install_input_checks()
    _APPLIED = True
