"""utils.safe_pickle: mmengine.load of a crafted .pkl is refused, genuine
info files still load."""
import os
import pickle

import numpy as np
import pytest
from _helpers.datasets import _System, _check_payload_is_real
from conftest import REPO_ROOT


SAMPLES = os.path.join(REPO_ROOT, '..', 'shared', 'data', 'mmdet3d_samples')


def test_mmengine_load_of_a_crafted_pkl_is_refused(tmp_path):
    import mmengine
    from cmkd_mmdet3d.utils import UnsafePickleError
    _check_payload_is_real(_System, tmp_path, 2)
    marker = tmp_path / 'pwned'
    path = tmp_path / 'kitti_infos_train.pkl'
    path.write_bytes(pickle.dumps(
        dict(metainfo={}, data_list=[dict(x=_System(marker))]), protocol=2))
    with pytest.raises(UnsafePickleError) as err:
        mmengine.load(str(path))
    assert str(path) in str(err.value) and 'posix.system' in str(err.value)
    with open(path, 'rb') as f:          # a file object names itself
        with pytest.raises(UnsafePickleError, match=str(path)):
            mmengine.load(f, file_format='pkl')
    assert not marker.exists()


def test_mmengine_dump_load_round_trip_of_infos(tmp_path):
    import mmengine
    from collections import OrderedDict
    infos = dict(metainfo=dict(categories={'Car': 2}, version='1.1'),
                 data_list=[dict(sample_idx=np.int64(7),
                                 arr=np.arange(12, dtype=np.float32)
                                 .reshape(3, 4),
                                 names=np.array(['Car', 'DontCare']),
                                 od=OrderedDict(a=1), s={1, 2},
                                 raw=b'\x00\xff', t=(1.5, None))])
    mmengine.dump(infos, str(tmp_path / 'i.pkl'))
    back = mmengine.load(str(tmp_path / 'i.pkl'))
    d = back['data_list'][0]
    assert back['metainfo'] == infos['metainfo']
    assert d['sample_idx'] == 7 and isinstance(d['sample_idx'], np.int64)
    np.testing.assert_array_equal(d['arr'], np.arange(12).reshape(3, 4))
    assert d['arr'].dtype == np.float32
    assert d['names'].tolist() == ['Car', 'DontCare']
    assert d['od'] == OrderedDict(a=1) and d['s'] == {1, 2}
    assert d['raw'] == b'\x00\xff' and d['t'] == (1.5, None)


@pytest.mark.skipif(not os.path.isdir(SAMPLES),
                    reason='mmdet3d sample data not available')
@pytest.mark.parametrize('rel', [
    'kitti/kitti_infos_train.pkl', 'kitti/kitti_dbinfos_train.pkl',
    'kitti/kitti_infos_mono3d.pkl', 'kitti/mono3d_sample_results2d.pkl',
    'nuscenes/nus_info.pkl', 'waymo/kitti_format/waymo_infos_train.pkl',
    'waymo/kitti_format/waymo_infos_val.pkl',
    'waymo/kitti_format/waymo_dbinfos_train.pkl'
])
def test_mmdet3d_sample_info_files_still_load(rel):
    """mmdet3d's own KITTI / nuScenes / Waymo info files load through
    ``mmengine.load`` exactly as a plain (trusting) unpickler reads them."""
    import mmengine
    path = os.path.join(SAMPLES, rel)
    back = mmengine.load(path)
    with open(path, 'rb') as f:
        ref = pickle.load(f)      # trusted: mmdet3d's published test data
    assert type(back) is type(ref)
    assert repr(back) == repr(ref)
