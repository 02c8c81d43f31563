"""cmkd_mmdet3d.evaluation.rotate_iou: the CPU rotated IoU, and KittiMetric
completing on CPU through it."""
import numpy as np
import pytest
import torch

from cmkd_mmdet3d import compat
from cmkd_mmdet3d.evaluation import rotate_iou as riou
from _helpers.compat import _area, _clip


def _kernel_corners(box):
    """Corners as mmdet3d's CUDA kernel builds them: R(-angle) @ local + c."""
    x, y, w, h, a = box
    local = np.array([[-w / 2, -h / 2], [-w / 2, h / 2], [w / 2, h / 2],
                      [w / 2, -h / 2]])
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return local @ rot.T + np.array([x, y])


def _reference_overlaps(boxes, qboxes, criterion):
    res = np.zeros((len(boxes), len(qboxes)))
    for i, b in enumerate(boxes):
        for j, q in enumerate(qboxes):
            inter = _area(_clip(_kernel_corners(b), _kernel_corners(q)))
            a1, a2 = b[2] * b[3], q[2] * q[3]
            # as mmdet3d's CUDA kernel: 0 divides by the query box's area
            res[i, j] = {
                -1: inter / (a1 + a2 - inter),
                0: inter / a2,
                1: inter / a1
            }.get(criterion, inter)
    return res


def _random_boxes(rng, n):
    return np.stack([
        rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), rng.uniform(0.5, 4, n),
        rng.uniform(0.5, 4, n), rng.uniform(-np.pi, np.pi, n)
    ], axis=1)


@pytest.mark.parametrize('criterion', [-1, 0, 1, 2])
def test_rotate_iou_cpu_matches_polygon_clipping(criterion):
    rng = np.random.default_rng(criterion + 10)
    boxes, qboxes = _random_boxes(rng, 30), _random_boxes(rng, 20)
    # a few exact duplicates and a disjoint pair
    qboxes[:3] = boxes[:3]
    qboxes[3] = [100, 100, 1, 1, 0]
    ours = compat.rotate_iou_cpu(boxes, qboxes, criterion)
    ref = _reference_overlaps(boxes, qboxes, criterion)
    assert ours.shape == (30, 20) and ours.dtype == np.float32
    assert (ref > 0).sum() > 50, 'the random boxes should overlap often'
    np.testing.assert_allclose(ours, ref, atol=2e-5 * max(1, ref.max()))
    if criterion == -1:
        np.testing.assert_allclose(np.diag(ours[:3, :3]), 1, atol=1e-5)
    assert np.all(ours[:, 3] == 0)


def test_rotate_iou_orientation_is_the_kernels():
    # A 4x1 box rotated by +30 degrees in the kernel's (clockwise) sense
    # overlaps a thin probe placed along that direction fully, while the
    # mirrored probe is hit only near the centre.
    a = np.deg2rad(30)
    box = np.array([[0, 0, 4, 1, a]])
    along = np.array(
        [[1.5 * np.cos(a), -1.5 * np.sin(a), 0.2, 0.2, 0]])
    mirrored = np.array(
        [[1.5 * np.cos(a), 1.5 * np.sin(a), 0.2, 0.2, 0]])
    assert compat.rotate_iou_cpu(along, box, 1)[0, 0] == pytest.approx(
        1, abs=1e-5)
    assert compat.rotate_iou_cpu(mirrored, box, 1)[0, 0] == pytest.approx(
        0, abs=1e-6)
    # criterion 0 normalises by the query box (the second argument)
    assert compat.rotate_iou_cpu(box, along, 0)[0, 0] == pytest.approx(
        1, abs=1e-5)


def test_rotate_iou_cpu_empty():
    out = compat.rotate_iou_cpu(np.zeros((0, 5)), np.zeros((4, 5)))
    assert out.shape == (0, 4)
    out = compat.rotate_iou_cpu(np.zeros((2, 5)), np.zeros((0, 5)))
    assert out.shape == (2, 0)


def test_our_rotate_iou_is_what_mmdet3d_imports():
    from mmdet3d.evaluation.functional.kitti_utils import eval as kitti_eval
    from mmdet3d.evaluation.functional.kitti_utils import rotate_iou
    assert rotate_iou.rotate_iou_gpu_eval is compat.rotate_iou_eval
    boxes = _random_boxes(np.random.default_rng(0), 5)
    ref = _reference_overlaps(boxes, boxes, -1)
    np.testing.assert_allclose(
        kitti_eval.bev_box_overlap(boxes, boxes), ref, atol=2e-5)


def test_dispatch_falls_back_to_cpu_when_the_kernel_fails(monkeypatch):
    def broken():
        raise AttributeError("module 'numpy' has no attribute 'row_stack'")

    monkeypatch.setattr(riou, '_CUDA_KERNEL', None)
    monkeypatch.setattr(riou, '_cuda_rotate_iou_usable', lambda: True)
    monkeypatch.setattr(riou, '_load_cuda_kernel', broken)
    boxes = _random_boxes(np.random.default_rng(1), 4)
    with pytest.warns(UserWarning, match='exact CPU path'):
        out = compat.rotate_iou_eval(boxes, boxes)
    np.testing.assert_allclose(out, compat.rotate_iou_cpu(boxes, boxes))
    assert riou._CUDA_KERNEL is False


def test_dispatch_uses_a_working_kernel(monkeypatch):
    calls = []

    def kernel(b, q, criterion=-1, device_id=0):
        calls.append(criterion)
        return np.full((len(b), len(q)), 0.5, np.float32)

    monkeypatch.setattr(riou, '_CUDA_KERNEL', None)
    monkeypatch.setattr(riou, '_cuda_rotate_iou_usable', lambda: True)
    monkeypatch.setattr(riou, '_load_cuda_kernel', lambda: kernel)
    boxes = _random_boxes(np.random.default_rng(1), 3)
    assert (compat.rotate_iou_eval(boxes, boxes, 2) == 0.5).all()
    assert calls == [2]
    monkeypatch.setenv('CMKD_KITTI_IOU', 'cpu')
    monkeypatch.setattr(riou, '_CUDA_KERNEL', None)
    compat.rotate_iou_eval(boxes, boxes)
    assert calls == [2]


def test_kitti_metric_perfect_predictions_on_cpu(synthetic_world):
    import mmengine
    from mmdet3d.evaluation.metrics import KittiMetric
    from mmdet3d.structures import Box3DMode, CameraInstance3DBoxes

    import cmkd_mmdet3d  # noqa: F401
    if torch.cuda.is_available():
        pytest.skip('checks the CPU path')
    ann_file = f'{synthetic_world}/kitti_infos_val.pkl'
    infos = mmengine.load(ann_file)
    classes = ['Pedestrian', 'Cyclist', 'Car']
    metric = KittiMetric(ann_file=ann_file, metric='bbox')
    metric.dataset_meta = dict(classes=classes)
    n_car = 0

    def predictions(shift=0.0):
        results = []
        for idx, info in enumerate(infos['data_list']):
            inst = [i for i in info['instances'] if i['bbox_label_3d'] >= 0]
            cam = CameraInstance3DBoxes(np.array(
                [i['bbox_3d'] for i in inst], np.float32).reshape(-1, 7))
            lidar2cam = np.array(info['images']['CAM2']['lidar2cam'])
            boxes = cam.convert_to(Box3DMode.LIDAR, np.linalg.inv(lidar2cam))
            boxes.tensor[:, 2] += shift   # vertical: the 2D boxes move little
            results.append(dict(
                sample_idx=idx,
                pred_instances_3d=dict(
                    bboxes_3d=boxes,
                    scores_3d=torch.linspace(1, 0.5, len(inst)),
                    labels_3d=torch.tensor(
                        [i['bbox_label_3d'] for i in inst])),
                pred_instances=dict()))
        return results

    for info in infos['data_list']:
        n_car += sum(i['bbox_label_3d'] == 2 for i in info['instances'])
    assert n_car >= 3
    perfect = metric.compute_metrics(predictions())
    shifted = metric.compute_metrics(predictions(shift=-0.6))
    pre = 'pred_instances_3d/KITTI/Car_'
    for diff in ('easy', 'moderate', 'hard'):
        ap3d = perfect[f'{pre}3D_AP40_{diff}_strict']
        # Every prediction coincides with its ground truth, so 3D (rotated
        # IoU on CPU) and 2D (axis-aligned image boxes) matching agree.
        # KITTI's AP40 is capped at (valid GT) / 40 for small sets, hence no
        # absolute value here.
        assert ap3d == perfect[f'{pre}2D_AP40_{diff}_strict'] > 0
        assert ap3d == perfect[f'{pre}BEV_AP40_{diff}_strict']
    # lowering boxes by 0.6 m keeps the BEV overlap and breaks 3D IoU >= 0.7
    assert shifted[f'{pre}BEV_AP40_hard_strict'] == \
        perfect[f'{pre}BEV_AP40_hard_strict']
    assert shifted[f'{pre}3D_AP40_hard_strict'] < \
        perfect[f'{pre}3D_AP40_hard_strict']
