"""compat.atomic_checkpoint: checkpoint writes are atomic."""
import os

import pytest


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    """A write that dies half way leaves the previous file intact."""
    import cmkd_mmdet3d  # noqa: F401
    from mmengine.fileio.backends.local_backend import LocalBackend
    target = tmp_path / 'epoch_1.pth'
    LocalBackend().put(b'old', target)
    assert target.read_bytes() == b'old'

    class Boom(Exception):
        pass

    real_fsync = os.fsync

    def dying_fsync(fd):
        raise Boom()

    monkeypatch.setattr(os, 'fsync', dying_fsync)
    with pytest.raises(Boom):
        LocalBackend().put(b'new but never finished', target)
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert target.read_bytes() == b'old'
    LocalBackend().put(b'new', target)
    assert target.read_bytes() == b'new'
