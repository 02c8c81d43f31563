"""Allowlist unpickling for every pickle a run reads.

A plain ``pickle.load`` runs whatever callable a file names (its
``__reduce__``), so a pseudo-label cache, an info file or a checkpoint
written by somebody else could execute code. The unpicklers here resolve a
global only when it is on an allowlist and raise :class:`UnsafePickleError`,
before anything from the file has been called, otherwise:

* :class:`RestrictedUnpickler` / :func:`safe_pickle_load` /
  :func:`load_pickle_file`: data files (pseudo-label caches, mmdet3d info
  and GT-database files) -- plain containers (which pickle needs no global
  for), ``collections.OrderedDict``, sets, bytes, numpy arrays, scalars and
  dtypes (:func:`data_allowed_globals`).
* :mod:`cmkd_mmdet3d.compat` subclasses :class:`RestrictedUnpickler` for
  checkpoints (the numpy part of its allowlist is
  :func:`numpy_allowed_globals`, plus torch tensors and mmengine state).
* :func:`patch_mmengine_pickle_handler` makes ``mmengine.load`` of a
  ``.pkl`` / ``.pickle`` file (mmdet3d's info files, the GT database) use
  :class:`RestrictedUnpickler`; ``cmkd_mmdet3d.compat.apply_all`` applies
  it.
"""
import _codecs
import collections
import os
import pickle
import sys
from typing import Any, Dict, Mapping, Optional

import numpy as np

__all__ = [
    'UnsafePickleError', 'numpy_allowed_globals', 'data_allowed_globals',
    'RestrictedUnpickler', 'safe_pickle_load', 'load_pickle_file',
    'patch_mmengine_pickle_handler'
]


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle references a global outside the allowlist."""


def numpy_allowed_globals() -> Dict[str, Any]:
    """The globals numpy arrays, scalars and dtypes pickle through.

    Returns:
        dict: ``'module.name'`` -> object, for numpy 1.x (``numpy.core``)
        and 2.x (``numpy._core``) pickles alike, with either library.
    """
    allowed = {'numpy.ndarray': np.ndarray, 'numpy.dtype': np.dtype}
    # numpy 1.x pickles through numpy.core, numpy 2.x through numpy._core;
    # a file written by either must load with the other.
    try:
        from numpy._core import multiarray as _ma  # numpy >= 2
        from numpy._core import numeric as _num
    except ImportError:  # pragma: no cover (numpy 1.x)
        from numpy.core import multiarray as _ma
        from numpy.core import numeric as _num
    for mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[f'{mod}._reconstruct'] = _ma._reconstruct
        allowed[f'{mod}.scalar'] = _ma.scalar
    # protocol 5 pickles contiguous arrays as _frombuffer(bytes, dtype,
    # shape, order), i.e. np.frombuffer(...).reshape(...)
    if hasattr(_num, '_frombuffer'):
        for mod in ('numpy.core.numeric', 'numpy._core.numeric'):
            allowed[f'{mod}._frombuffer'] = _num._frombuffer
    for name in dir(getattr(np, 'dtypes', None) or ()):
        if name.endswith('DType'):
            allowed[f'numpy.dtypes.{name}'] = getattr(np.dtypes, name)
    return allowed


_DATA_ALLOWED: Optional[Dict[str, Any]] = None


def data_allowed_globals() -> Dict[str, Any]:
    """The allowlist of data files: numpy and a few builtin containers.

    Returns:
        dict: ``'module.name'`` -> object (a cached dict; do not modify).
    """
    global _DATA_ALLOWED
    if _DATA_ALLOWED is None:
        allowed = numpy_allowed_globals()
        allowed.update({
            # protocol <= 2 stores bytes as _codecs.encode(str, 'latin1')
            '_codecs.encode': _codecs.encode,
            'collections.OrderedDict': collections.OrderedDict,
            'builtins.set': set,
            'builtins.frozenset': frozenset,
            'builtins.bytes': bytes,
            'builtins.bytearray': bytearray,
            'builtins.complex': complex,
            'builtins.slice': slice,
        })
        _DATA_ALLOWED = allowed
    return _DATA_ALLOWED


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` only returns allowlisted globals.

    Subclasses change :attr:`error`, :attr:`what` and
    :meth:`allowed_globals` (``cmkd_mmdet3d.compat`` does for
    checkpoints). Persistent ids are refused by :class:`pickle.Unpickler`
    itself unless a subclass or caller sets ``persistent_load``.
    """

    #: raised for a global outside the allowlist
    error = UnsafePickleError
    #: what the file is, in the error message
    what = 'data file'

    def allowed_globals(self) -> Mapping[str, Any]:
        """The allowlist.

        Returns:
            Mapping: ``'module.name'`` -> the object to return for it.
        """
        return data_allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global of the pickle through the allowlist.

        Args:
            module (str): Module name as stored in the pickle.
            name (str): Qualified name inside the module.

        Returns:
            The allowlisted object.

        Raises:
            UnsafePickleError: (or :attr:`error`) for any other global.
        """
        if module == '__builtin__':  # protocol-2 pickles written by Python 3
            module = 'builtins'
        key = f'{module}.{name}'
        allowed = self.allowed_globals()
        if key in allowed:
            return allowed[key]
        raise self.error(f"global '{key}' is not allowed in a {self.what}")


def safe_pickle_load(file, source: Optional[str] = None, **kwargs) -> Any:
    """Unpickle a data file object with :class:`RestrictedUnpickler`.

    Args:
        file: A binary file object.
        source (str, optional): The file's name for error messages.
            Defaults to ``file.name``, else ``'<stream>'``.
        **kwargs: ``fix_imports``, ``encoding``, ``errors`` as for
            :func:`pickle.load`.

    Returns:
        The unpickled object.

    Raises:
        UnsafePickleError: If the pickle names a global outside
            :func:`data_allowed_globals` (the message names the file and
            the global). Nothing from the file has run by then.
    """
    if source is None:
        source = getattr(file, 'name', None) or '<stream>'
    try:
        return RestrictedUnpickler(file, **kwargs).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(
            f'refusing to load {source}: {err}. Only plain containers, '
            'numpy arrays, scalars and dtypes are accepted in data files; '
            'rewrite the file with those if you trust it.') from None


def load_pickle_file(path: str) -> Any:
    """Read a pickle file with :func:`safe_pickle_load`.

    Args:
        path (str): The file (``~`` is expanded).

    Returns:
        The unpickled object.

    Raises:
        FileNotFoundError: If the file does not exist.
        UnsafePickleError: If it names a global outside the allowlist.
    """
    path = os.path.expanduser(os.fspath(path))
    with open(path, 'rb') as f:
        return safe_pickle_load(f, source=path)


def _mmengine_source(file) -> str:
    """The path ``mmengine.fileio.io.load`` was given, for messages (it
    hands the handler an anonymous ``BytesIO``)."""
    name = getattr(file, 'name', None)
    if isinstance(name, str):
        return name
    try:
        frame = sys._getframe(2)  # the caller of load_from_fileobj
    except ValueError:  # pragma: no cover (no such frame)
        return '<stream>'
    if frame.f_globals.get('__name__') == 'mmengine.fileio.io' and \
            frame.f_code.co_name == 'load':
        path = frame.f_locals.get('file')
        if isinstance(path, (str, os.PathLike)):
            return os.fspath(path)
    return '<stream>'


def patch_mmengine_pickle_handler() -> bool:
    """Make mmengine's ``PickleHandler`` (``mmengine.load`` of ``.pkl`` and
    ``.pickle`` files) unpickle with :class:`RestrictedUnpickler`.

    Returns:
        bool: True if the handler was patched now (False when it already
        was).
    """
    from mmengine.fileio.handlers.pickle_handler import PickleHandler
    if getattr(PickleHandler.load_from_fileobj, '_cmkd_safe', False):
        return False

    def load_from_fileobj(self, file, **kwargs):
        return safe_pickle_load(file, source=_mmengine_source(file),
                                **kwargs)

    load_from_fileobj._cmkd_safe = True
    load_from_fileobj.__doc__ = ('Unpickle with cmkd_mmdet3d\'s allowlist '
                                 '(numpy and plain containers only).')
    PickleHandler.load_from_fileobj = load_from_fileobj
    return True
