"""Compatibility shims for the pinned OpenMMLab stack on current torch / numpy.

``import cmkd_mmdet3d`` calls :func:`apply_all`, so every config that lists
``custom_imports=dict(imports=['cmkd_mmdet3d'])`` and every script of this
project gets them. Each shim is idempotent, narrow and tested on its own
(``tests/test_compat.py``):

1. **Safe checkpoint loading under torch >= 2.6**
   (:func:`safe_load_checkpoint`).
   torch >= 2.6 defaults ``torch.load`` to ``weights_only=True``, which refuses
   every mmengine checkpoint (``message_hub`` holds ``HistoryBuffer`` objects,
   ``meta`` numpy scalars). Instead of switching the check off we unpickle with
   an allowlist: torch's own tensor/storage globals, numpy arrays, scalars and
   dtypes, ``collections.OrderedDict``, mmengine's ``HistoryBuffer`` and a
   ``getattr`` that only resolves the few methods mmengine pickles by
   reference (``HistoryBuffer.mean`` ..., ``OneCycleParamScheduler``'s
   annealing functions). Anything else is refused with
   :class:`UnsafeCheckpointError`, which names the file and the global, before
   it can run; a file that cannot be unpickled at all (truncated, not a
   checkpoint) raises :class:`CorruptCheckpointError` naming it. mmengine's
   local-file scheme is re-registered with this loader,
   which covers ``load_from``, ``--resume``, ``mim test``,
   ``init_cfg=Pretrained``
   and teacher checkpoints. ``mmengine.load`` of ``.pkl`` files (info
   files, the GT database) gets the data-file allowlist of
   :mod:`cmkd_mmdet3d.utils.safe_pickle` (numpy and plain containers).
2. **KITTI evaluation without CUDA** (:func:`rotate_iou_cpu`). mmdet3d computes
   BEV / 3D overlaps with a ``numba.cuda`` kernel whose module cannot even be
   imported without a GPU. We register our own
   ``mmdet3d.evaluation.functional.kitti_utils.rotate_iou`` that calls that
   kernel where it works and otherwise an exact CPU replacement built on
   ``mmcv.ops.box_iou_rotated`` (:func:`rotate_iou_eval`).
3. **np.long** is aliased to ``np.int64`` on numpy versions that lack it
   (1.24 - 1.26); mmdet3d 1.4.0's GT sampler uses it.
4. **Distributed runs without CUDA** (:func:`setup_cpu_distributed`, called by
   ``tools/train.py`` / ``tools/test.py``): mmengine 0.10.7 calls
   ``torch.cuda.set_device`` while initialising a ``pytorch`` launch and wraps
   the model with ``device_ids=[local_rank]``, both of which fail on CPU. We
   initialise a gloo process group first (mmengine then skips its own) and
   wrap with ``device_ids=None``.
6. **Atomic checkpoint files** (:func:`patch_atomic_local_put`): mmengine
   writes checkpoints with ``open(path, 'wb').write(...)``, so a run killed
   while saving leaves a truncated ``epoch_N.pth`` that ``--resume`` then
   fails on. Local writes go to a temporary file renamed over the target.
5. **``cmkd_mmdet3d::`` config paths** (:func:`register_config_scope`):
   mmengine resolves ``pkg::path`` only for the OpenMMLab packages it lists in
   ``MODULE2PACKAGE``; we add ours, so that ``get_config`` and ``_base_``
   find ``cmkd_mmdet3d::teachers/...`` in the installed package's ``.mim``.
7. **Sparse-convolution backward on CPU** (:func:`patch_spconv_cpu_backward`):
   spconv 2.3's ``indice_conv_backward`` has a CPU branch (gather, matmul,
   scatter-add) but asks torch for the current CUDA stream before reaching
   it, so every backward through a sparse conv fails on a machine without
   CUDA ("Torch not compiled with CUDA enabled"). Without CUDA we hand it
   stream 0, which the CPU branch never uses. This lets the SECOND and
   CenterPoint teachers train on CPU (tested against a dense ``conv3d``).
"""
import os
import os.path as osp
import pickle
import struct
import sys
import types
import warnings
import weakref
import zipfile
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from .utils.atomic_io import atomic_open
from .utils.safe_pickle import (RestrictedUnpickler, UnsafePickleError,
                                numpy_allowed_globals,
                                patch_mmengine_pickle_handler)

__all__ = [
    'UnsafeCheckpointError', 'CorruptCheckpointError', 'safe_load_checkpoint',
    'last_loaded_checkpoint', 'restricted_pickle',
    'register_safe_checkpoint_loader', 'rotate_iou_cpu', 'rotate_iou_eval',
    'install_rotate_iou', 'patch_numpy_long', 'setup_cpu_distributed',
    'register_config_scope', 'patch_atomic_local_put',
    'patch_spconv_cpu_backward', 'patch_spconv_cpu_scatter_add',
    'spconv_scatter_add_cpu', 'apply_all'
]

# --------------------------------------------------------------------------
# 1. checkpoints
# --------------------------------------------------------------------------


class UnsafeCheckpointError(UnsafePickleError):
    """A checkpoint references a global outside the allowlist."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file cannot be read: truncated (e.g. a run killed while
    saving, an interrupted copy) or not a checkpoint at all."""


# (file name, weak reference to one of its tensors) of the last checkpoint
# read by safe_load_checkpoint, so that a model refusing a state dict can
# name the file it came from (see last_loaded_checkpoint).
_LAST_LOADED: Optional[Tuple[str, Any]] = None


def _first_tensor(obj: Any) -> Optional[torch.Tensor]:
    state = obj.get('state_dict', obj) if isinstance(obj, dict) else None
    if isinstance(state, dict):
        for value in state.values():
            if isinstance(value, torch.Tensor):
                return value
    return None


def last_loaded_checkpoint(state_dict: Optional[dict] = None
                           ) -> Optional[str]:
    """The file of the last checkpoint read by :func:`safe_load_checkpoint`.

    Args:
        state_dict (dict, optional): When given, the file is returned only if
            this state dict holds a tensor of that checkpoint (the same
            object; mmengine's key revision and our renaming keep them),
            so a state dict built elsewhere is never blamed on a file.

    Returns:
        str | None: The file name, or None when unknown.
    """
    if _LAST_LOADED is None:
        return None
    filename, ref = _LAST_LOADED
    if state_dict is None:
        return filename
    tensor = ref() if ref is not None else None
    if tensor is None:
        return None
    return filename if any(v is tensor for v in state_dict.values()) \
        else None


# Globals that torch's own weights-only unpickler considers safe, minus the two
# rebuild helpers that call an arbitrary function taken from the pickle.
_TORCH_EXCLUDED = {
    'torch._tensor._rebuild_from_type_v2',
    'torch._utils._rebuild_wrapper_subclass',
}


def _torch_allowed_globals() -> Dict[str, Any]:
    try:
        from torch._weights_only_unpickler import _get_allowed_globals
        allowed = dict(_get_allowed_globals())
    except (ImportError, AttributeError):  # pragma: no cover (older torch)
        from torch import _utils
        allowed = {
            'torch._utils._rebuild_tensor_v2': _utils._rebuild_tensor_v2,
            'torch._utils._rebuild_parameter': _utils._rebuild_parameter,
            'torch.Size': torch.Size,
            'collections.OrderedDict': __import__('collections').OrderedDict,
            '_codecs.encode': __import__('_codecs').encode,
        }
    for name in _TORCH_EXCLUDED:
        allowed.pop(name, None)
    return allowed


class _AttributeOnly:
    """Stand-in for a class that a checkpoint may only use as ``getattr``
    target.

    It is not callable, so a pickle cannot instantiate the class through it.
    """

    def __init__(self, cls: type):
        self.cls = cls

    def __repr__(self) -> str:
        return f'<attribute-only reference to {self.cls.__qualname__}>'

    def __call__(self, *args, **kwargs):
        raise UnsafeCheckpointError(
            f'instantiating {self.cls.__module__}.{self.cls.__qualname__} '
            'is not allowed in a checkpoint')


def _mmengine_references() -> Tuple[Dict[str, Any], Dict[type, frozenset]]:
    """Globals and ``getattr`` pairs that genuine mmengine checkpoints hold."""
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.optim.scheduler.param_scheduler import \
        OneCycleParamScheduler
    hb = 'mmengine.logging.history_buffer.HistoryBuffer'
    oc = 'mmengine.optim.scheduler.param_scheduler.OneCycleParamScheduler'
    globals_ = {hb: HistoryBuffer, oc: _AttributeOnly(OneCycleParamScheduler)}
    getattr_pairs = {
        # HistoryBuffer._statistics_methods holds these unbound methods, which
        # protocol-2 pickles store as getattr(HistoryBuffer, 'mean').
        HistoryBuffer: frozenset({'min', 'max', 'mean', 'current'}),
        # OneCycleParamScheduler.anneal_func, saved in the scheduler state.
        OneCycleParamScheduler:
        frozenset({'_annealing_cos', '_annealing_linear'}),
    }
    return globals_, getattr_pairs


_ALLOWED: Optional[Dict[str, Any]] = None
_GETATTR_PAIRS: Dict[type, frozenset] = {}


def _allowed_globals() -> Dict[str, Any]:
    global _ALLOWED, _GETATTR_PAIRS
    if _ALLOWED is None:
        allowed = _torch_allowed_globals()
        allowed.update(numpy_allowed_globals())
        mm_globals, _GETATTR_PAIRS = _mmengine_references()
        allowed.update(mm_globals)
        allowed['builtins.getattr'] = _restricted_getattr
        _ALLOWED = allowed
    return _ALLOWED


def _restricted_getattr(obj: Any, name: str, *default) -> Any:
    """``getattr`` limited to the (class, method) pairs mmengine pickles."""
    cls = obj.cls if isinstance(obj, _AttributeOnly) else obj
    if isinstance(cls, type) and name in _GETATTR_PAIRS.get(cls, ()):
        return getattr(cls, name)
    raise UnsafeCheckpointError(
        f'getattr({getattr(cls, "__qualname__", type(cls).__name__)}, '
        f'{name!r}) is not allowed in a checkpoint')


class _RestrictedUnpickler(RestrictedUnpickler):
    """Unpickler whose ``find_class`` only returns the globals allowlisted
    for checkpoints."""

    error = UnsafeCheckpointError
    what = 'checkpoint'

    def allowed_globals(self) -> Dict[str, Any]:
        return _allowed_globals()


def _restricted_load(file, **kwargs):
    return _RestrictedUnpickler(file, **kwargs).load()


#: A pickle-module stand-in for ``torch.load(..., pickle_module=...)``.
restricted_pickle = types.ModuleType('cmkd_restricted_pickle')
restricted_pickle.Unpickler = _RestrictedUnpickler
restricted_pickle.load = _restricted_load
restricted_pickle.__doc__ = 'Allowlist unpickler for mmengine checkpoints.'


def safe_load_checkpoint(filename: str, map_location: Any = None) -> Any:
    """Load a checkpoint file with the allowlist unpickler.

    Args:
        filename (str): Path to a ``.pth`` file (``~`` is expanded).
        map_location: As in :func:`torch.load`. Defaults to None.

    Returns:
        The unpickled object (usually a dict with ``state_dict``, ``meta``,
        ``message_hub``, ``optimizer`` and ``param_schedulers``).

    Raises:
        FileNotFoundError: If the file does not exist.
        UnsafeCheckpointError: If the checkpoint references a global that is
            not allowlisted. Nothing from the checkpoint has run by then.
        CorruptCheckpointError: If the file cannot be unpickled at all
            (truncated or not a checkpoint), naming the file, its size and
            the underlying error.
    """
    global _LAST_LOADED
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    try:
        # The allowlist unpickler *is* the restriction here (torch's
        # weights-only mode cannot express "getattr for these methods only"):
        # given a pickle_module, torch.load unpickles with it and nothing
        # else. weights_only is left unset so that nobody can turn the
        # restriction off here; TORCH_FORCE_WEIGHTS_ONLY_LOAD=1 makes torch
        # refuse the call instead, which is stricter still.
        ckpt = torch.load(
            filename, map_location=map_location,
            pickle_module=restricted_pickle)
    except UnsafeCheckpointError as err:
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {filename}: {err}. Only tensors, '
            'numpy arrays/scalars and mmengine logging/scheduler state are '
            'accepted; re-save the file as a plain state dict if you trust '
            'it.') from None
    except (EOFError, pickle.UnpicklingError, zipfile.BadZipFile,
            struct.error, RuntimeError, OSError) as err:
        # torch reports a truncated zip checkpoint as "PytorchStreamReader
        # failed reading zip archive", "[Errno 22] Invalid argument" or
        # "unexpected EOF"; a truncated legacy one as EOFError / "pickle data
        # was truncated". Errors that are not about the file's bytes
        # (permissions, a CUDA map_location on a CPU machine) pass through.
        if isinstance(err, (PermissionError, IsADirectoryError)) or (
                isinstance(err, RuntimeError)
                and 'CUDA' in str(err) and 'zip' not in str(err)):
            raise
        size = osp.getsize(filename)
        first = str(err).strip().splitlines()[0] if str(err).strip() else ''
        raise CorruptCheckpointError(
            f'cannot read checkpoint {filename} ({size} bytes): truncated or '
            f'not a checkpoint ({type(err).__name__}: {first}). Was it '
            'copied or saved completely? Use another epoch_N.pth or save it '
            'again.') from err
    tensor = _first_tensor(ckpt)
    _LAST_LOADED = (filename, weakref.ref(tensor) if tensor is not None
                    else None)
    return ckpt


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """mmengine scheme loader for local files (logged as "local_safe")."""
    return safe_load_checkpoint(filename, map_location)


def register_safe_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through
    :func:`safe_load_checkpoint`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safe, force=True)


# --------------------------------------------------------------------------
# 2. rotated IoU for the KITTI evaluation without CUDA
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# 3. numpy
# --------------------------------------------------------------------------


def patch_numpy_long() -> bool:
    """Alias ``np.long`` to ``np.int64`` where numpy lacks it.

    Returns:
        bool: True if the alias was added now.
    """
    try:
        np.long  # noqa: B018 (numpy 2.x has it again)
        return False
    except AttributeError:
        np.long = np.int64
        return True


# --------------------------------------------------------------------------
# 4. distributed runs on CPU
# --------------------------------------------------------------------------


def setup_cpu_distributed(cfg) -> bool:
    """Prepare a ``--launcher pytorch`` run on a machine without CUDA.

    Initialises the gloo process group from torchrun's environment
    (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and sets
    ``cfg.model_wrapper_cfg`` to DDP without device ids. Does nothing (and
    returns False) where CUDA is available.
    """
    if torch.cuda.is_available():
        return False
    import torch.distributed as dist
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    return True


_APPLIED = False


def patch_atomic_local_put() -> None:
    """Make mmengine's ``LocalBackend.put`` (used for checkpoints) write a
    temporary file and ``os.replace`` it over the target."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    if getattr(LocalBackend.put, '_cmkd_atomic', False):
        return

    def put(self, obj: bytes, filepath) -> None:
        with atomic_open(filepath, 'wb') as f:
            f.write(obj)

    put._cmkd_atomic = True
    put.__doc__ = LocalBackend.put.__doc__
    LocalBackend.put = put


def register_config_scope() -> None:
    """Let mmengine resolve ``cmkd_mmdet3d::<config path>``."""
    from mmengine.config import utils
    utils.MODULE2PACKAGE.setdefault('cmkd_mmdet3d', 'cmkd_mmdet3d')


def patch_spconv_cpu_backward() -> bool:
    """Let spconv's sparse-conv backward reach its CPU branch without CUDA.

    Returns:
        bool: True if spconv was patched now (False with CUDA, without
        spconv, or when already patched).
    """
    if torch.cuda.is_available():
        return False
    try:
        from spconv.pytorch import ops
    except ImportError:
        return False
    if getattr(ops.get_current_stream, '_cmkd_cpu', False):
        return False
    cuda_stream = ops.get_current_stream

    def get_current_stream() -> int:
        # only reached on CPU tensors here: the CPU branch ignores it
        if torch.cuda.is_available():
            return cuda_stream()
        return 0

    get_current_stream._cmkd_cpu = True
    ops.get_current_stream = get_current_stream
    return True


def spconv_scatter_add_cpu(out, inp, inds) -> None:
    """``out[inds[i]] += inp[i]`` for ``i < len(inds)``, in place.

    The replacement of spconv's ``SpconvOps.scatter_add_cpu`` (see
    :func:`patch_spconv_cpu_scatter_add`), with its signature.

    Args:
        out (cumm.tensorview.Tensor): (M, C) float CPU tensor, updated in
            place.
        inp (cumm.tensorview.Tensor): (N', C) rows to add, N' >= N; only the
            first N are read (spconv passes its whole work buffer).
        inds (cumm.tensorview.Tensor): (N,) int32 destination rows.
    """
    idx = torch.from_numpy(inds.numpy_view()).long()
    dst = torch.from_numpy(out.numpy_view())
    src = torch.from_numpy(inp.numpy_view())
    dst.index_add_(0, idx, src[:idx.shape[0]])


def patch_spconv_cpu_scatter_add() -> bool:
    """Replace spconv's racy CPU scatter-add with :func:`spconv_scatter_add_cpu`.

    spconv 2.3's ``GatherCPU::scatter_add`` (``spconv/csrc/sparse/gather.py``,
    used by ``indice_conv`` forward and by the input gradient of
    ``indice_conv_backward`` on CPU tensors) declares its row pointers ``buf``
    and ``out_ptr`` outside the ``tv::kernel_1d`` lambda and captures them by
    reference, so the OpenMP threads share them: one thread re-points them
    between another's assignment and its adds, and rows receive another
    row's values. With one thread it is exact, with two it was wrong in 372
    of 2000 random calls on this project's machines, and a sparse conv
    checked against a dense ``conv3d`` was wrong in most runs. The gather
    (locals inside the lambda) and the weight gradient (``torch.mm``) are
    not affected. torch's ``index_add_`` does the same thing
    deterministically. Applied whether or not CUDA is present: CPU tensors
    take this path on any machine.

    Returns:
        bool: True if spconv was patched now (False without spconv or when
        already patched).
    """
    try:
        from spconv.core_cc.csrc.sparse.all import SpconvOps
    except ImportError:
        return False
    if getattr(SpconvOps.scatter_add_cpu, '_cmkd_exact', False):
        return False
    fn = staticmethod(spconv_scatter_add_cpu)
    spconv_scatter_add_cpu._cmkd_exact = True
    SpconvOps.scatter_add_cpu = fn
    return True


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
    # clear errors (file named) from mmdet3d's stock loaders; imported here,
    # not at the top, because the datasets package imports mmdet3d
    from .datasets.checks import install_input_checks
    install_input_checks()
    _APPLIED = True
