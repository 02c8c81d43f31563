"""Atomic checkpoint files (:func:`patch_atomic_local_put`): mmengine
writes checkpoints with ``open(path, 'wb').write(...)``, so a run killed
while saving leaves a truncated ``epoch_N.pth`` that ``--resume`` then
fails on. Local writes go to a temporary file renamed over the target.
"""
from ..utils.atomic_io import atomic_open


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
