"""The Waymo environment of ``make waymo-env`` for the tests: its python, or
None (the tests of the official op then skip, saying how to make it)."""
import os
import os.path as osp

import pytest

from conftest import REPO_ROOT


def _waymo_python():
    from cmkd_mmdet3d.evaluation.waymo_metric import find_waymo_python
    try:
        return find_waymo_python(
            os.environ.get('CMKD_WAYMO_PYTHON')
            or osp.join(REPO_ROOT, '.venv-waymo', 'bin', 'python'))
    except FileNotFoundError:
        return None


WAYMO_PYTHON = _waymo_python()
needs_waymo = pytest.mark.skipif(
    WAYMO_PYTHON is None, reason='no Waymo environment: run `make waymo-env`')
