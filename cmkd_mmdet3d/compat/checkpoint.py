"""Safe checkpoint loading under torch >= 2.6
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
"""
import os.path as osp
import pickle
import struct
import types
import weakref
import zipfile
from typing import Any, Dict, Optional, Tuple

import torch

from ..utils.safe_pickle import (RestrictedUnpickler, UnsafePickleError,
                                 numpy_allowed_globals)


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
