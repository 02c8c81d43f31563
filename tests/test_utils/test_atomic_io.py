"""cmkd_mmdet3d.utils.atomic_io: the one atomic-write helper."""
import os
import stat

import pytest

from cmkd_mmdet3d.utils.atomic_io import atomic_open, atomic_path


def test_atomic_open_replaces_the_file_only_on_success(tmp_path):
    target = tmp_path / 'sub' / 'labels.json'
    with atomic_open(str(target), 'w') as f:
        f.write('first')
        # nothing at the target while the file is being written
        assert not target.exists()
    assert target.read_text() == 'first'
    with pytest.raises(RuntimeError, match='killed'):
        with atomic_open(str(target), 'w') as f:
            f.write('half of the second')
            raise RuntimeError('killed while writing')
    assert target.read_text() == 'first'
    # no temporary file left behind
    assert sorted(os.listdir(target.parent)) == ['labels.json']


def test_atomic_path_keeps_the_extension_and_normal_permissions(tmp_path):
    target = tmp_path / 'frame.png'
    with atomic_path(str(target), fsync=False) as tmp:
        assert tmp.endswith('.png') and os.path.dirname(tmp) == str(tmp_path)
        with open(tmp, 'wb') as f:
            f.write(b'x')
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode == 0o666 & ~umask          # not mkstemp's 0600
    with pytest.raises(ValueError, match='mode'):
        with atomic_open(str(target), 'a'):
            pass
