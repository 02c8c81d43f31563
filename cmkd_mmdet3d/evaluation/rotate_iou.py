"""KITTI evaluation without CUDA (:func:`rotate_iou_cpu`). mmdet3d computes
BEV / 3D overlaps with a ``numba.cuda`` kernel whose module cannot even be
imported without a GPU. We register our own
``mmdet3d.evaluation.functional.kitti_utils.rotate_iou`` that calls that
kernel where it works and otherwise an exact CPU replacement built on
``mmcv.ops.box_iou_rotated`` (:func:`rotate_iou_eval`).
"""
import os
import os.path as osp
import sys
import types
import warnings
from typing import Any

import numpy as np
import torch


_ROTATE_IOU_MODULE = 'mmdet3d.evaluation.functional.kitti_utils.rotate_iou'


def rotate_iou_cpu(boxes: np.ndarray,
                   query_boxes: np.ndarray,
                   criterion: int = -1,
                   device_id: int = 0) -> np.ndarray:
    """CPU drop-in for mmdet3d's ``rotate_iou_gpu_eval``.

    Boxes follow the kernel's convention: ``(x, y, w, h, angle)`` where the
    corners are ``R(-angle) @ (+-w/2, +-h/2) + (x, y)`` in a y-up frame, which
    is mmcv's ``box_iou_rotated`` with ``clockwise=False`` (mmcv states its
    flag in a y-down image frame).

    Args:
        boxes (np.ndarray): (N, 5) boxes.
        query_boxes (np.ndarray): (K, 5) boxes.
        criterion (int): -1: IoU; 0: intersection / area of the *query*
            box; 1: intersection / area of the box; any other value: the
            intersection area. (The kernel passes the query box first to its
            device function, so 0 and 1 are the opposite of what its
            docstring suggests; checked against the CUDA kernel on an H100
            with ``tools/analysis_tools/check_rotate_iou.py``.)
        device_id (int): Ignored; kept for signature compatibility.

    Returns:
        np.ndarray: (N, K) float32 overlaps. Unlike the CUDA kernel, which
        returns 0 or 1/3 for many pairs of *bit-identical* boxes (its edge
        intersection is degenerate there), identical boxes get IoU 1.
    """
    from mmcv.ops import box_iou_rotated
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 5)
    query_boxes = np.asarray(query_boxes, dtype=np.float32).reshape(-1, 5)
    n, k = len(boxes), len(query_boxes)
    if n == 0 or k == 0:
        return np.zeros((n, k), dtype=np.float32)
    b = torch.from_numpy(boxes)
    q = torch.from_numpy(query_boxes)
    if criterion == -1:
        out = box_iou_rotated(b, q, mode='iou', clockwise=False)
    elif criterion == 0:
        out = box_iou_rotated(q, b, mode='iof', clockwise=False).T
    elif criterion == 1:
        out = box_iou_rotated(b, q, mode='iof', clockwise=False)
    else:
        area = (b[:, 2] * b[:, 3])[:, None]
        out = box_iou_rotated(b, q, mode='iof', clockwise=False) * area
    return out.numpy().astype(np.float32)


def _cuda_rotate_iou_usable() -> bool:
    if not torch.cuda.is_available():
        return False
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # numba without CUDA support, missing libNVVM ...
        return False


def _load_cuda_kernel():
    """mmdet3d's numba.cuda ``rotate_iou_gpu_eval``, loaded from its file
    under a private name (the public module name is ours)."""
    import importlib.util

    import mmdet3d.evaluation.functional.kitti_utils as kitti_utils
    path = osp.join(osp.dirname(kitti_utils.__file__), 'rotate_iou.py')
    spec = importlib.util.spec_from_file_location('_mmdet3d_rotate_iou_cuda',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # compiles the kernels
    return module.rotate_iou_gpu_eval


_CUDA_KERNEL: Any = None  # None: not tried yet, False: unusable


def rotate_iou_eval(boxes: np.ndarray,
                    query_boxes: np.ndarray,
                    criterion: int = -1,
                    device_id: int = 0) -> np.ndarray:
    """What mmdet3d's KITTI evaluation calls: the CUDA kernel where it works
    (numbers identical to stock mmdet3d), else :func:`rotate_iou_cpu`.

    ``CMKD_KITTI_IOU=cpu`` forces the CPU path. A kernel that fails to
    compile (e.g. numba-cuda releases that still use ``np.row_stack``,
    removed in numpy 2.5) falls back to the CPU path with a warning.
    """
    global _CUDA_KERNEL
    if _CUDA_KERNEL is None:
        _CUDA_KERNEL = False
        if os.environ.get('CMKD_KITTI_IOU', 'auto') != 'cpu' and \
                _cuda_rotate_iou_usable():
            try:
                _CUDA_KERNEL = _load_cuda_kernel()
            except Exception as err:  # noqa: BLE001 (any compile failure)
                warnings.warn('mmdet3d\'s CUDA rotated IoU is unusable here '
                              f'({err!r}); using the exact CPU path')
    if _CUDA_KERNEL:
        return _CUDA_KERNEL(boxes, query_boxes, criterion, device_id)
    return rotate_iou_cpu(boxes, query_boxes, criterion)


def install_rotate_iou() -> bool:
    """Register :func:`rotate_iou_eval` as mmdet3d's rotated-IoU module.

    Returns:
        bool: Whether our module is (now) the one mmdet3d will use; False if
        mmdet3d's own module was imported before (then it is left alone).
    """
    current = sys.modules.get(_ROTATE_IOU_MODULE)
    if current is not None:
        return getattr(current, '__cmkd__', False)
    module = types.ModuleType(_ROTATE_IOU_MODULE)
    module.__doc__ = ('Installed by cmkd_mmdet3d.compat: mmdet3d\'s CUDA '
                      'rotated IoU where it works, an exact CPU path '
                      'elsewhere.')
    module.rotate_iou_gpu_eval = rotate_iou_eval
    module.__cmkd__ = True
    sys.modules[_ROTATE_IOU_MODULE] = module
    return True
