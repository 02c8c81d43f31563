"""Atomic file writes: the one place where "write a temporary file, then
``os.replace`` it over the target" lives.

A reader (a resumed run, a dataloader worker, another rank) sees either the
old file or the complete new one, never a truncated one, even when the
writer is killed half-way.
"""
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Iterator

__all__ = ['atomic_path', 'atomic_open']


@contextmanager
def atomic_path(path: str, fsync: bool = True) -> Iterator[str]:
    """A temporary path next to ``path`` that replaces ``path`` on success.

    The temporary name keeps ``path``'s extension, so writers that choose
    the format by extension (``cv2.imwrite``, ``mmengine.dump``) still work.
    On an exception the temporary file is removed and ``path`` is untouched.

    Args:
        path (str): The file to write. Its folder is created if needed.
        fsync (bool): Flush the file to disk before the rename, so a crash
            after the rename cannot leave an empty file. Defaults to True.

    Yields:
        str: The temporary path to write to.
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base, ext = osp.splitext(osp.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f'.{base}.', suffix=f'.tmp{ext}',
                               dir=folder)
    os.close(fd)
    try:
        yield tmp
        if fsync:
            with open(tmp, 'rb') as f:
                os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)    # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@contextmanager
def atomic_open(path: str, mode: str = 'wb', **kwargs):
    """``open(path, mode)`` whose content appears at ``path`` only when the
    ``with`` block ends without an exception (see :func:`atomic_path`).

    Args:
        path (str): The file to write.
        mode (str): A write mode, ``'w'`` or ``'wb'``. Defaults to ``'wb'``.
        **kwargs: Passed to :func:`open` (``encoding`` ...).

    Yields:
        The open file object.
    """
    if not mode.startswith('w'):
        raise ValueError(f'atomic_open writes whole files; mode {mode!r}')
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
