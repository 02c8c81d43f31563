"""ONNX export of the student: tools/deployment/export_onnx.py on synthetic
val frames, onnxruntime against PyTorch (dense outputs within 1e-4, the
same boxes), tools/infer.py on the ONNX file, and what is refused."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

from _helpers.models import STUDENT as STUDENT_CFG, save_calibrated_student
from _helpers.tools import load_tool

pytest.importorskip('onnxruntime')
pytest.importorskip('onnxscript')

NAMES = ('000004.png', '000005.png')   # the synthetic world's val frames
TEST_CFG = ('model.test_cfg.score_thr=0.0', 'model.test_cfg.max_num=20')


@pytest.fixture(scope='module')
def exported(synthetic_world, tmp_path_factory):
    """A random student exported by the tool, checked on the val frames."""
    tmp = tmp_path_factory.mktemp('onnx')
    model, student = save_calibrated_student(tmp, synthetic_world)
    folder = tmp / 'imgs'
    folder.mkdir()
    for name in NAMES:
        os.symlink(osp.join(synthetic_world, 'training', 'image_2', name),
                   folder / name)
    onnx_file, report = str(tmp / 'student.onnx'), str(tmp / 'check.json')
    result = load_tool('deployment', 'export_onnx.py').main([
        STUDENT_CFG, student, str(folder), '--calib',
        osp.join(synthetic_world, 'training', 'calib'), '--out-file',
        onnx_file, '--repeat', '1', '--report', report,
        '--cfg-options', *TEST_CFG])
    return dict(model=model, student=student, onnx=onnx_file, result=result,
                report=report, folder=str(folder), tmp=tmp)


def test_export_tool_checks_onnxruntime_against_pytorch(exported):
    result = exported['result']
    assert len(result['images']) == len(NAMES)
    # the synthetic pipeline halves the 375 x 1242 image
    assert result['img_shape'] == [188, 621]
    assert result['ok'] and result['all_same_boxes']
    assert 0 <= result['max_abs_diff'] <= 1e-4
    assert all(r['boxes'] > 0 for r in result['images'])
    assert all(r['torch_s'] > 0 and r['onnxruntime_s'] > 0
               for r in result['images'])
    with open(exported['report']) as f:
        assert json.load(f)['max_abs_diff'] == result['max_abs_diff']


def test_onnx_outputs_and_boxes_equal_pytorch(exported, synthetic_world):
    """Independently of the tool: the dataset's test path gives the val
    frames to PyTorch and to onnxruntime; dense outputs and decoded boxes
    agree."""
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    from torch.utils._pytree import tree_leaves

    from _helpers.models import student_test_cfg
    from cmkd_mmdet3d.apis import (ONNXStudent, onnx_test_step,
                                   same_detections)
    runner = ONNXStudent(exported['onnx'])
    assert runner.img_shape == (188, 621) and runner.batch_size == 1
    assert runner.meta['classes'] == ['Pedestrian', 'Cyclist', 'Car']
    model = exported['model'].eval()
    ds = DATASETS.build(student_test_cfg(synthetic_world)
                        .test_dataloader.dataset)
    for sample in ds:
        data = pseudo_collate([sample])
        with torch.no_grad():
            ref = model(**model.data_preprocessor(data, False),
                        mode='tensor')
            pred = model.test_step(data)[0].pred_instances_3d
            img = torch.stack([im.float() for im in data['inputs']['img']])
            l2c = torch.tensor(np.asarray(sample['data_samples']
                                          .metainfo['lidar2cam']))[None]
            c2i = torch.tensor(np.asarray(sample['data_samples']
                                          .metainfo['cam2img']))[None]
        outs = runner(img, l2c, c2i)
        for a, b in zip(tree_leaves(outs), tree_leaves(ref)):
            assert a.shape == b.shape
            assert b.std() > 0
            torch.testing.assert_close(a, b, rtol=0, atol=1e-4)
        got = onnx_test_step(runner, model, data)[0].pred_instances_3d
        assert len(pred.scores_3d) == 20     # max_num of the test config
        assert pred.scores_3d.max() - pred.scores_3d.min() > 0.01
        assert same_detections(got, pred, atol=1e-4)


def test_infer_tool_runs_the_onnx_file(exported, synthetic_world):
    """tools/infer.py with the .onnx file in place of the checkpoint writes
    the label lines the checkpoint gives."""
    infer = load_tool('infer.py')
    calib = osp.join(synthetic_world, 'training', 'calib')
    lines = {}
    for key in ('student', 'onnx'):
        out = str(exported['tmp'] / f'out_{key}')
        infer.main([STUDENT_CFG, exported[key], exported['folder'],
                    '--calib', calib, '--out-dir', out, '--no-vis',
                    '--cfg-options', *TEST_CFG])
        lines[key] = {
            name: open(osp.join(out, 'labels', name[:-4] + '.txt')).read()
            .splitlines()
            for name in NAMES
        }
    for name in NAMES:
        a, b = lines['student'][name], lines['onnx'][name]
        assert len(a) == len(b) > 0
        for la, lb in zip(a, b):
            assert la.split()[0] == lb.split()[0]
            np.testing.assert_allclose(
                np.float64(la.split()[1:]), np.float64(lb.split()[1:]),
                atol=2e-3)


def test_same_detections_pairs_boxes_in_any_order():
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.structures import InstanceData

    from cmkd_mmdet3d.apis import same_detections

    def pred(boxes, scores, labels):
        return InstanceData(bboxes_3d=LiDARInstance3DBoxes(
            torch.tensor(boxes, dtype=torch.float32)),
            scores_3d=torch.tensor(scores), labels_3d=torch.tensor(labels))

    boxes = [[10., 2., -1., 4., 1.6, 1.5, 0.1],
             [20., -3., -1., 0.8, 0.6, 1.7, 1.2]]
    a = pred(boxes, [0.5, 0.5], [2, 0])
    assert same_detections(a, pred(boxes[::-1], [0.5, 0.5], [0, 2]))
    assert same_detections(a, pred([[b + 5e-5 for b in boxes[0]], boxes[1]],
                                   [0.50005, 0.5], [2, 0]))
    assert not same_detections(a, pred(boxes, [0.5, 0.5], [0, 2]))
    assert not same_detections(a, pred(boxes[:1], [0.5], [2]))
    assert not same_detections(a, pred([boxes[0], boxes[0]], [0.5, 0.5],
                                       [2, 2]))
    assert not same_detections(a, pred([[b + 1e-3 for b in boxes[0]],
                                        boxes[1]], [0.5, 0.5], [2, 0]))


def test_bad_inputs_are_refused(exported, tmp_path):
    from cmkd_mmdet3d.apis import ONNXStudent, export_onnx
    runner = ONNXStudent(exported['onnx'])
    eye = torch.eye(4)[None]
    with pytest.raises(ValueError, match=r'takes images \(1, 3, 188, 621\)'):
        runner(torch.zeros(1, 3, 100, 621), eye, eye)
    with pytest.raises(ValueError, match=r'lidar2cam must be \(1, 4, 4\)'):
        runner(torch.zeros(1, 3, 188, 621), eye[:, :3], eye)
    with pytest.raises(FileNotFoundError, match='nothing.onnx'):
        ONNXStudent(str(tmp_path / 'nothing.onnx'))
    # an ONNX file of another graph
    other = str(tmp_path / 'other.onnx')
    torch.onnx.export(torch.nn.Linear(2, 2), (torch.zeros(1, 2), ), other,
                      dynamo=False)
    with pytest.raises(ValueError, match='no .cmkd_mmdet3d. metadata'):
        ONNXStudent(other)
    # a student without a head
    model = exported['model']
    head, model.bbox_head = model.bbox_head, None
    try:
        with pytest.raises(ValueError, match='has no bbox_head'):
            export_onnx(model, str(tmp_path / 'x.onnx'), (188, 621))
    finally:
        model.bbox_head = head
    assert not osp.exists(tmp_path / 'x.onnx')
