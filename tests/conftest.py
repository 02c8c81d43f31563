import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_SAMPLES = os.path.join(REPO_ROOT, '..', 'shared', 'data',
                              'mmdet3d_samples')


@pytest.fixture(scope='session')
def synthetic_world(tmp_path_factory):
    """A small synthetic KITTI world with infos (4 train, 2 val frames)."""
    from cmkd_mmdet3d.datasets.synthetic import generate_world
    root = str(tmp_path_factory.mktemp('world') / 'synthetic_kitti')
    generate_world(root, num_train=4, num_val=2, num_unlabeled=3, seed=7)
    return root


def venv_bin(name):
    """An executable next to this interpreter (mim, pytest ...), or None."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.exists(path) else shutil.which(name)


def run(cmd, cwd, timeout=900, env=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    return proc
