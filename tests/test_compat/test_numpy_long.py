"""compat.numpy_long: the np.long shim."""
import numpy as np
import pytest

from cmkd_mmdet3d import compat


def test_patch_numpy_long(monkeypatch):
    if hasattr(np, 'long'):
        monkeypatch.delattr(np, 'long', raising=False)
    if hasattr(np, 'long'):  # numpy 1.x raises through __getattr__ anyway
        pytest.skip('cannot remove np.long on this numpy')
    assert compat.patch_numpy_long() is True
    assert np.long is np.int64
    assert compat.patch_numpy_long() is False
    assert np.zeros(2, dtype=np.long).dtype == np.int64
