"""apis.CMKDMono3DInferencer: an image with its KITTI calibration file
gives the same boxes as the dataset's test path, from a student or a full
CMKD checkpoint, one prediction, label file and picture per image; bad
input is refused by name."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from _helpers.models import save_random_student, student_test_cfg as _cfg


@pytest.fixture(scope='module')
def student_ckpts(tmp_path_factory):
    return save_random_student(tmp_path_factory.mktemp('ckpts'))


def _dataset_samples(model, data_root):
    """The val frames through the dataset's test path (KittiDataset + test
    pipeline): per frame the packed sample and the model's prediction."""
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    ds = DATASETS.build(_cfg(data_root).test_dataloader.dataset)
    model.eval()
    out = []
    for sample in ds:
        with torch.no_grad():
            pred = model.test_step(pseudo_collate([sample]))[0]
        out.append((sample, pred.pred_instances_3d))
    return out


def test_image_and_calib_file_give_the_dataset_inputs_and_boxes(
        synthetic_world, student_ckpts, tmp_path):
    """The inferencer's pipeline packs what the dataset packs (image
    tensor, calibration, shapes), so the student predicts the same; a
    student and a CMKD checkpoint give the same predictions."""
    from cmkd_mmdet3d.apis import CMKDMono3DInferencer, calib_for_image
    model, student, cmkd = student_ckpts
    calib_dir = osp.join(synthetic_world, 'training', 'calib')
    expected = _dataset_samples(model, synthetic_world)
    paths = [sample['data_samples'].img_path for sample, _ in expected]
    inputs = [dict(img=path, **calib_for_image(path, calib_dir))
              for path in paths]
    inferencer = CMKDMono3DInferencer(_cfg(), student, device='cpu')
    for item, (sample, _) in zip(inferencer._inputs_to_list(inputs),
                                 expected):
        packed = inferencer.pipeline(item)
        assert torch.equal(packed['inputs']['img'], sample['inputs']['img'])
        got, want = packed['data_samples'], sample['data_samples']
        for key in ('lidar2cam', 'cam2img'):
            np.testing.assert_allclose(got.metainfo[key], want.metainfo[key],
                                       atol=1e-5)
        for key in ('img_shape', 'ori_shape'):
            assert tuple(got.metainfo[key]) == tuple(want.metainfo[key])
    results = {}
    for ckpt in (student, cmkd):
        if ckpt != student:
            inferencer = CMKDMono3DInferencer(_cfg(), ckpt, device='cpu')
        out = str(tmp_path / osp.basename(ckpt))
        preds = inferencer(inputs, batch_size=2, out_dir=out,
                           pred_score_thr=0.0)['predictions']
        # one prediction per image, in order (mmdet3d 1.4's __call__
        # returns N (N + 1) / 2 of them)
        assert [p['name'] for p in preds] == [
            osp.splitext(osp.basename(p))[0] for p in paths]
        for pred, (_, inst) in zip(preds, expected):
            # random weights tie many anchors: compare the sorted scores
            assert len(pred['scores_3d']) == len(inst.scores_3d) > 0
            np.testing.assert_allclose(np.sort(pred['scores_3d']),
                                       np.sort(inst.scores_3d.numpy()),
                                       atol=1e-5)
            # the label file holds one KITTI line (16 columns) per box
            lines = open(osp.join(out, 'labels',
                                  pred['name'] + '.txt')).read().splitlines()
            assert lines == pred['kitti_lines']
            assert len(lines) == len(pred['scores_3d'])
            cols = lines[0].split()
            assert len(cols) == 16 and cols[0] in ('Pedestrian', 'Cyclist',
                                                   'Car')
            assert float(cols[-1]) == pytest.approx(pred['scores_3d'][0],
                                                    abs=1e-4)
            pic = cv2.imread(osp.join(out, 'vis', pred['name'] + '.png'))
            assert pic.shape[1] == 1242 and pic.shape[0] > 375
        results[ckpt] = preds
    assert results[student] == results[cmkd]


def test_bad_input_is_refused_by_name(synthetic_world, student_ckpts,
                                      tmp_path):
    from cmkd_mmdet3d.apis import (CMKDMono3DInferencer, calib_for_image,
                                   list_images)
    _, student, _ = student_ckpts
    img = osp.join(synthetic_world, 'training', 'image_2', '000004.png')
    calib_dir = osp.join(synthetic_world, 'training', 'calib')
    with pytest.raises(FileNotFoundError, match='calib.*999999.txt'):
        calib_for_image(osp.join(tmp_path, '999999.png'), calib_dir)
    with pytest.raises(ValueError, match='either'):
        calib_for_image(img)
    with pytest.raises(FileNotFoundError, match='no image'):
        list_images(str(tmp_path))
    calib = {k: v for k, v in calib_for_image(img, calib_dir).items()
             if k != 'calib'}
    inferencer = CMKDMono3DInferencer(_cfg(), student, device='cpu',
                                      show_progress=False)
    # the image at half size: its calibration no longer fits
    small = str(tmp_path / 'small.png')
    cv2.imwrite(small, cv2.resize(cv2.imread(img), (621, 188)))
    with pytest.raises(ValueError, match=r'small\.png is 188x621'):
        inferencer(dict(img=small, **calib))
    broken = str(tmp_path / 'broken.png')
    open(broken, 'wb').write(b'not a png')
    with pytest.raises(ValueError, match=r'cannot read image .*broken\.png'):
        inferencer(dict(img=broken, **calib))
    with pytest.raises(KeyError, match="no 'cam2img'"):
        inferencer(dict(img=img, lidar2cam=calib['lidar2cam']))
    # a checkpoint of another model is refused, not run with random weights
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={'x.weight': torch.zeros(1)}, meta={}), other)
    with pytest.raises(RuntimeError, match='other.pth'):
        CMKDMono3DInferencer(_cfg(), other, device='cpu')
