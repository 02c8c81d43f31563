"""evaluation.kitti_submission: the test-split config, files named by frame
and filled in, the zip laid out as the KITTI server reads it, and a
checker that refuses what the server would refuse."""
import os
import os.path as osp
import zipfile

import pytest
from mmengine.config import Config

from cmkd_mmdet3d.evaluation.kitti_submission import (check_submission,
                                                      frame_ids,
                                                      pack_submission,
                                                      submission_config)

LINE = ('Car -1 -1 -1.5700 100.0000 150.0000 200.0000 220.0000 1.5000 '
        '1.6000 3.9000 1.0000 1.6000 20.0000 -1.5500 0.8123')


def _zip(path, members):
    with zipfile.ZipFile(path, 'w') as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return str(path)


def test_submission_config_points_the_test_loader_at_the_test_split():
    cfg = Config(dict(
        test_dataloader=dict(dataset=dict(
            type='KittiDataset', data_root='data/kitti/',
            ann_file='kitti_infos_val.pkl',
            data_prefix=dict(pts='training/velodyne_reduced',
                             img='training/image_2'))),
        test_evaluator=dict(type='KittiMetric',
                            ann_file='data/kitti/kitti_infos_val.pkl',
                            metric='bbox')))
    out = submission_config(cfg, 'work/sub')
    ds = out.test_dataloader.dataset
    assert ds.ann_file == 'kitti_infos_test.pkl'
    assert ds.data_prefix == dict(pts='testing/velodyne_reduced',
                                  img='testing/image_2')
    assert ds.test_mode is True and ds.load_eval_anns is False
    ev = out.test_evaluator
    assert ev.ann_file == 'data/kitti/kitti_infos_test.pkl'
    assert ev.format_only is True and ev.metric == 'bbox'
    assert ev.submission_prefix == ev.pklfile_prefix == \
        osp.join('work/sub', 'kitti_results')
    # the input is left alone
    assert cfg.test_dataloader.dataset.ann_file == 'kitti_infos_val.pkl'
    del cfg.test_dataloader.dataset['data_root']
    with pytest.raises(KeyError, match='data_root'):
        submission_config(cfg, 'x')


def test_frame_ids_come_from_the_image_names():
    infos = [dict(images=dict(CAM2=dict(img_path=f'{i:06d}.png')))
             for i in (3, 0, 7)]
    assert frame_ids(infos) == ['000003', '000000', '000007']
    with pytest.raises(KeyError, match='sample 1 has no images'):
        frame_ids([infos[0], dict(images={})], 'test.pkl')
    with pytest.raises(ValueError, match='frame ids repeat'):
        frame_ids([infos[0], infos[0]])
    with pytest.raises(ValueError, match="'a.png' is not named"):
        frame_ids([dict(images=dict(CAM2=dict(img_path='a.png')))])


def test_pack_names_files_by_frame_fills_missing_and_zips_at_root(tmp_path):
    """KittiMetric names files by position and writes none for a frame
    without boxes when the first frame has none; the zip has every frame,
    at its root, under its own id."""
    res = tmp_path / 'pred_instances_3d'
    res.mkdir()
    (res / '000001.txt').write_text(LINE + '\n' + LINE + '\n')
    (res / '000002.txt').write_text('')
    ids = ['000005', '000009', '000011']
    zpath = str(tmp_path / 'sub.zip')
    stats = pack_submission(str(res), ids, zpath)
    assert stats == dict(frames=3, boxes=2, empty=2, missing=1)
    with zipfile.ZipFile(zpath) as zf:
        assert sorted(zf.namelist()) == ['000005.txt', '000009.txt',
                                         '000011.txt']
        assert zf.read('000005.txt') == b''
        assert zf.read('000009.txt').decode().splitlines() == [LINE, LINE]
    assert check_submission(zpath, ids) == dict(
        frames=3, boxes=2, empty=2, per_class={'Car': 2})
    # results of another (larger) split are refused
    (res / '000003.txt').write_text(LINE + '\n')
    with pytest.raises(ValueError, match='beyond the 3 samples'):
        pack_submission(str(res), ids, str(tmp_path / 'other.zip'))
    assert not osp.exists(tmp_path / 'other.zip')


@pytest.mark.parametrize('members,match', [
    ({'data/000000.txt': LINE}, 'at the root of the zip'),
    ({'000000.txt': LINE}, r'missing 1 \[.000001.\]'),
    ({'000000.txt': LINE, '000001.txt': '', '000002.txt': ''},
     r'unexpected 1 \[.000002.\]'),
    ({'000000.txt': LINE.rsplit(' ', 1)[0], '000001.txt': ''},
     '000000.txt line 1: 15 fields'),
    ({'000000.txt': '', '000001.txt': '\n' + LINE.replace('Car', 'car')},
     "000001.txt line 1: unknown class 'car'"),
    ({'000000.txt': LINE.replace(' 20.0000 ', ' nan '), '000001.txt': ''},
     'not finite'),
    ({'000000.txt': LINE.replace('100.0000', '300.0000'), '000001.txt': ''},
     'x1 > x2'),
    ({'000000.txt': LINE.replace(' 1.5000 ', ' 0.0000 '), '000001.txt': ''},
     r'size h w l .* not > 0'),
])
def test_check_refuses_what_the_server_refuses(tmp_path, members, match):
    path = _zip(tmp_path / 'bad.zip', members)
    with pytest.raises(ValueError, match=match):
        check_submission(path, ['000000', '000001'])


def test_check_expects_the_7518_kitti_test_frames_by_default(tmp_path):
    ids = [f'{i:06d}' for i in range(7518)]
    path = _zip(tmp_path / 'full.zip', {f'{i}.txt': '' for i in ids})
    assert check_submission(path)['frames'] == 7518
    os.remove(path)
    path = _zip(tmp_path / 'val.zip', {f'{i}.txt': '' for i in ids[:3769]})
    with pytest.raises(ValueError, match='missing 3749'):
        check_submission(path)
