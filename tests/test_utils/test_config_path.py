"""utils.config_path: a config found by its file name, as mim does."""
import os.path as osp

import pytest

from cmkd_mmdet3d.utils import find_config
from conftest import REPO_ROOT

NAME = ('cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
        'synkitti-3d-3class.py')


def test_a_config_name_resolves_to_the_plugins_file(tmp_path):
    path = find_config(NAME)
    assert osp.basename(path) == NAME and osp.isfile(path)
    with open(path) as f, open(osp.join(REPO_ROOT, 'configs', 'cmkd_mono3d',
                                        NAME)) as g:
        assert f.read() == g.read()
    # a file is taken as it is, even with a config's name
    own = tmp_path / NAME
    own.write_text('x = 1\n')
    assert find_config(str(own)) == str(own)
    with pytest.raises(FileNotFoundError, match=r'nope\.py.*searched'):
        find_config('nope.py')
