"""The Waymo AP metric: pure numerics by hand, and the official op (in the
environment of ``make waymo-env``) against hand-computed cases.

The op tests skip when the Waymo environment is absent; CI builds it
(.ci/run), so there they run.
"""
import math
import os.path as osp

import numpy as np
import pytest
import torch

from cmkd_mmdet3d.evaluation.waymo_metric import (
    RANGE_SHARDS, WaymoAPMetric, find_waymo_python, format_waymo_table,
    gt_difficulty, lidar_boxes_to_waymo, range_shard, read_waymo_gt,
    run_worker, summarize_waymo, waymo_detection_metrics)

from _helpers.waymo import WAYMO_PYTHON, needs_waymo
from conftest import REPO_ROOT

SAMPLE_GT = osp.join(REPO_ROOT, '..', 'shared', 'data', 'mmdet3d_samples',
                     'waymo', 'waymo_format', 'gt.bin')


VEHICLE, PEDESTRIAN = 1, 2
CAR = [10.0, 2.0, 1.0, 4.0, 2.0, 1.5, 0.3]     # Waymo box, centre at 1 m


# --------------------------------------------------------------- pure parts
def test_lidar_boxes_to_waymo_by_hand():
    boxes = np.array([[1, 2, 0.5, 4, 2, 1.6, 3.5],
                      [0, 0, -1, 1, 1, 2, -0.25]])
    out = lidar_boxes_to_waymo(boxes)
    np.testing.assert_allclose(out[0], [1, 2, 1.3, 4, 2, 1.6,
                                        3.5 - 2 * math.pi], rtol=1e-6)
    np.testing.assert_allclose(out[1], [0, 0, 0, 1, 1, 2, -0.25], rtol=1e-6)
    assert out.dtype == np.float32
    assert lidar_boxes_to_waymo(np.zeros((0, 7))).shape == (0, 7)


def test_gt_difficulty_follows_openpcdet():
    level = np.array([0, 0, 0, 1, 2, 2])
    points = np.array([6, 5, 0, 1, 100, 0])
    difficulty, keep = gt_difficulty(level, points)
    assert difficulty.tolist() == [1, 2, 2, 1, 2, 2]
    assert keep.tolist() == [True, True, False, True, True, False]


def test_range_shard_is_planar_distance():
    boxes = np.zeros((5, 7))
    boxes[:, :3] = [[29.9, 0, 0], [30.0, 0, 0], [0, -49.9, 0],
                    [30, 40, 0], [29.8, 0, 5.0]]
    assert range_shard(boxes).tolist() == [0, 1, 1, 2, 0]


def test_summarize_leaves_out_shards_without_ground_truth():
    gt = dict(box=np.array([[10, 0, 1, 4, 2, 1.5, 0.0]]),
              type=np.array([VEHICLE]), difficulty=np.array([2]))
    raw = {}
    for lvl in (1, 2):
        raw[f'OBJECT_TYPE_TYPE_VEHICLE_LEVEL_{lvl}'] = dict(ap=0.5, aph=0.25)
        for s in RANGE_SHARDS:
            raw[f'RANGE_TYPE_VEHICLE_{s}_LEVEL_{lvl}'] = dict(ap=0.0, aph=0.0)
    raw['RANGE_TYPE_VEHICLE_[0, 30)_LEVEL_2'] = dict(ap=0.75, aph=0.5)
    out = summarize_waymo(raw, gt, {'Vehicle': 0.7}, ['Vehicle'])
    # the only box is LEVEL_2 and within 30 m
    assert out == {'Vehicle/L2 AP@0.7': 0.5, 'Vehicle/L2 APH@0.7': 0.25,
                   'Vehicle/L2 AP@0.7 [0, 30)': 0.75,
                   'Vehicle/L2 APH@0.7 [0, 30)': 0.5}
    table = format_waymo_table(out)
    assert 'Vehicle/L2 AP@0.7' in table and '75.00' in table
    assert table.splitlines()[1].split()[-1] == '-'


def test_missing_environment_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.delenv('CMKD_WAYMO_PYTHON', raising=False)
    monkeypatch.setenv('CMKD_WAYMO_VENV', str(tmp_path / 'nowhere'))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match='make waymo-env'):
        find_waymo_python()
    metric = WaymoAPMetric(waymo_bin_file=str(tmp_path / 'gt.bin'))
    metric.dataset_meta = dict(classes=['Car'])
    with pytest.raises(FileNotFoundError, match='make waymo-env'):
        metric.compute_metrics([])


def test_unknown_types_and_metrics_are_refused(tmp_path):
    with pytest.raises(KeyError, match='Truck'):
        WaymoAPMetric(waymo_bin_file='gt.bin',
                      iou_thresholds=[{'Truck': 0.7}])
    with pytest.raises(ValueError, match='LET_mAP'):
        WaymoAPMetric(waymo_bin_file='gt.bin', metric='LET_mAP')


def _sample(boxes, scores, labels, frame, **meta):
    from mmdet3d.structures import LiDARInstance3DBoxes
    return dict(pred_instances_3d=dict(
        bboxes_3d=LiDARInstance3DBoxes(torch.tensor(boxes).reshape(-1, 7)),
        scores_3d=torch.tensor(scores), labels_3d=torch.tensor(labels)),
        sample_idx=frame, context_name='ctx', timestamp=1000 + frame,
        **meta)


def test_process_without_calibration_names_the_keys():
    metric = WaymoAPMetric(waymo_bin_file='gt.bin')
    sample = _sample([CAR], [0.9], [0], 4)
    del sample['timestamp']
    with pytest.raises(KeyError, match="'timestamp'.*frame 4.*meta_keys"):
        metric.process({}, [sample])
    with pytest.raises(KeyError, match="'lidar2cam'.*frame 3"):
        metric.process({}, [_sample([CAR], [0.9], [0], 3)])


# ----------------------------------- the KITTI-style fallback (no Waymo op)
# a level camera 1.6 m above the vehicle-frame origin, 480 x 320 px
LIDAR2CAM = np.array([[0, -1, 0, 0], [0, 0, -1, 1.6], [1, 0, 0, 0],
                      [0, 0, 0, 1]], np.float64)
CAM2IMG = np.array([[400, 0, 240, 0], [0, 400, 160, 0], [0, 0, 1, 0],
                    [0, 0, 0, 1]], np.float64)
# mmdet3d LiDAR boxes (bottom centre, l, w, h, yaw) of three cars in front
CARS = np.array([[12.0, 0.0, 0.0, 4.0, 1.8, 1.5, 0.0],
                 [20.0, 3.0, 0.0, 4.0, 1.8, 1.5, 0.2],
                 [9.0, -3.0, 0.0, 4.0, 1.8, 1.5, -0.3]], np.float32)


NUM_FRAMES = 14    # 42 cars: KITTI's AP40 needs >= 40 to reach its 40 points


def _kitti_infos(path):
    """Val infos of 14 frames in mmdet3d's Waymo layout, the three cars in
    each, as ``instances`` and as the front camera's ``cam_instances``
    (camera boxes x, y, z, l, h, w, ry, by hand: x_cam = -y, y_cam = 1.6 -
    z, z_cam = x; KITTI's ry = 0 heads along the camera's x axis, so a
    heading along the LiDAR x axis (yaw 0) is ry = -pi / 2, and ry = -yaw -
    pi / 2)."""
    import mmengine
    cam = []
    for x, y, z, l, w, h, yaw in CARS.tolist():
        xc, yc, zc = -y, 1.6 - z, x
        # the 2D box: the projected corners' extent (a cuboid's corners)
        corners = np.array([[xc + dx, yc - dy, zc + dz]
                            for dx in (-w / 2, w / 2) for dy in (0, h)
                            for dz in (-l / 2, l / 2)])
        # turn by yaw (left of forward) about the camera's y axis
        a = -yaw
        rel = corners - [xc, yc, zc]
        rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0],
                        [-math.sin(a), 0, math.cos(a)]])
        corners = rel @ rot.T + [xc, yc, zc]
        u = 400 * corners[:, 0] / corners[:, 2] + 240
        v = 400 * corners[:, 1] / corners[:, 2] + 160
        cam.append(dict(bbox=[u.min(), v.min(), u.max(), v.max()],
                        bbox_3d=[xc, yc, zc, l, h, w, -yaw - math.pi / 2],
                        bbox_label_3d=0))
    infos = [dict(sample_idx=1000000 + i, context_name='ctx', timestamp=i,
                  images=dict(CAM_FRONT=dict(
                      height=320, width=480, lidar2cam=LIDAR2CAM.tolist(),
                      cam2img=CAM2IMG.tolist())),
                  instances=[dict(bbox_3d=b, bbox_label_3d=0)
                             for b in CARS.tolist()],
                  cam_instances=dict(CAM_FRONT=cam))
             for i in range(NUM_FRAMES)]
    mmengine.dump(dict(metainfo=dict(categories=dict(
        Car=0, Pedestrian=1, Cyclist=2)), data_list=infos), path)
    return str(path)


def _kitti_style(ann_file, boxes):
    """The fallback's metrics for ``boxes`` predicted in every frame."""
    metric = WaymoAPMetric(waymo_bin_file='unused.bin', metric='kitti',
                           ann_file=ann_file)
    metric.dataset_meta = dict(classes=['Car', 'Pedestrian', 'Cyclist'])
    n = len(boxes)
    for i in range(NUM_FRAMES):
        # distinct scores: KITTI's thresholds are taken between scores
        scores = [0.99 - 0.01 * (n * i + j) for j in range(n)]
        sample = _sample(boxes, scores, [0] * n, 1000000 + i,
                         lidar2cam=LIDAR2CAM, cam2img=CAM2IMG,
                         img_shape=(320, 480))
        sample['timestamp'] = i
        metric.process({}, [sample])
    return metric.evaluate(NUM_FRAMES)


def test_kitti_style_fallback_without_the_waymo_environment(tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv('CMKD_WAYMO_PYTHON', str(tmp_path / 'no_python'))
    ann = _kitti_infos(tmp_path / 'waymo_infos_val.pkl')
    key = 'Kitti metric/pred_instances_3d/KITTI/Car_{}_AP40_moderate_{}'
    # the ground truth as predictions: every Car AP is 100
    exact = _kitti_style(ann, CARS.tolist())
    for kind in ('3D', 'BEV', '2D'):
        assert exact[key.format(kind, 'strict')] == pytest.approx(
            100, abs=0.01)
    # every box 1 m further along its 4 m length: 3D IoU 3 / 5 = 0.6 fails
    # KITTI's Car IoU 0.7 and passes 0.5
    shifted = CARS.copy()
    shifted[:, 0] += np.cos(shifted[:, 6])
    shifted[:, 1] += np.sin(shifted[:, 6])
    result = _kitti_style(ann, shifted.tolist())
    assert result[key.format('3D', 'strict')] == pytest.approx(0, abs=0.01)
    assert result[key.format('3D', 'loose')] == pytest.approx(100, abs=0.01)
    # one of three cars found: recall 1 / 3 reaches 13 of KITTI's 40 recall
    # points, AP40 = 100 * 13 / 40
    one = _kitti_style(ann, CARS[:1].tolist())
    assert one[key.format('3D', 'strict')] == pytest.approx(32.5, abs=0.01)


def test_kitti_style_needs_the_val_infos():
    with pytest.raises(ValueError, match='ann_file'):
        WaymoAPMetric(waymo_bin_file='gt.bin', metric='kitti')


# ------------------------------------------------------------- the real op
def _op(pred_boxes, scores, gt_boxes, ious=None, pred_types=None,
        gt_types=None, pred_frames=None, gt_frames=None, difficulty=None):
    pred_boxes = np.asarray(pred_boxes, np.float32).reshape(-1, 7)
    gt_boxes = np.asarray(gt_boxes, np.float32).reshape(-1, 7)
    n, m = len(pred_boxes), len(gt_boxes)
    pred = dict(box=pred_boxes, score=np.asarray(scores, np.float32),
                type=pred_types or [VEHICLE] * n,
                frame=pred_frames or [0] * n)
    gt = dict(box=gt_boxes, type=gt_types or [VEHICLE] * m,
              frame=gt_frames or [0] * m,
              difficulty=difficulty or [1] * m)
    ious = ious or {'Vehicle': 0.7}
    raw = waymo_detection_metrics(pred, gt, ious, WAYMO_PYTHON)
    types = ['Vehicle', 'Pedestrian', 'Cyclist']
    return summarize_waymo(raw, {k: np.asarray(v) for k, v in gt.items()},
                           ious, types)


@needs_waymo
def test_ground_truth_as_predictions_gives_one():
    gts = [CAR, [40, -5, 1, 4.5, 2, 1.6, -2.0], [60, 10, 1, 4, 2, 1.5, 1.0]]
    out = _op(gts, [0.9, 0.8, 0.7], gts)
    assert set(out) == {f'Vehicle/L{lvl} {m}@0.7{s}'
                        for lvl in (1, 2) for m in ('AP', 'APH')
                        for s in ['', ' [0, 30)', ' [30, 50)',
                                  ' [50, +inf)']}
    for key, value in out.items():
        assert value == pytest.approx(1.0, abs=1e-5), key


@needs_waymo
def test_shifted_box_fails_iou_07_passes_05():
    # 1 m along a 4 m x 2 m x 1.5 m box: overlap 3 x 2 x 1.5 = 9 m^3,
    # union 12 + 12 - 9 = 15 m^3, IoU 0.6
    shifted = list(CAR)
    shifted[0] += math.cos(CAR[6])
    shifted[1] += math.sin(CAR[6])
    strict = _op([shifted], [0.9], [CAR], {'Vehicle': 0.7})
    loose = _op([shifted], [0.9], [CAR], {'Vehicle': 0.5})
    assert strict['Vehicle/L1 AP@0.7'] == pytest.approx(0.0, abs=1e-6)
    assert loose['Vehicle/L1 AP@0.5'] == pytest.approx(1.0, abs=1e-5)
    just_over = _op([shifted], [0.9], [CAR], {'Vehicle': 0.61})
    assert just_over['Vehicle/L1 AP@0.61'] == pytest.approx(0.0, abs=1e-6)


@needs_waymo
def test_heading_errors_weigh_aph():
    # a square box turned by 90 degrees has IoU 1 and heading accuracy
    # 1 - (pi / 2) / pi = 0.5; a box turned by 180 degrees has IoU 1 and
    # heading accuracy 0
    square = [12, 0, 1, 2, 2, 1.5, 0.0]
    turned = list(square)
    turned[6] = math.pi / 2
    out = _op([turned], [0.9], [square])
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(1.0, abs=1e-5)
    assert out['Vehicle/L1 APH@0.7'] == pytest.approx(0.5, abs=1e-5)
    flipped = list(CAR)
    flipped[6] = CAR[6] + math.pi
    out = _op([flipped], [0.9], [CAR])
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(1.0, abs=1e-5)
    assert out['Vehicle/L1 APH@0.7'] == pytest.approx(0.0, abs=1e-5)


@needs_waymo
def test_missing_boxes_and_false_positives():
    gts = [CAR, [20, 5, 1, 4, 2, 1.5, 0], [25, -5, 1, 4, 2, 1.5, 0],
           [28, 8, 1, 4, 2, 1.5, 0]]
    # half found, precision 1 up to recall 0.5: AP 0.5
    out = _op(gts[:2], [0.9, 0.8], gts)
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(0.5, abs=1e-5)
    # all found, plus a false positive scored below every true one: the
    # precision is 1 up to recall 1 at the cutoffs above it, so AP 1
    fp = [5, -10, 1, 4, 2, 1.5, 0]
    out = _op(gts + [fp], [0.9, 0.8, 0.7, 0.6, 0.3], gts)
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(1.0, abs=1e-5)
    # the same false positive scored above every true one: the first
    # cutoff holds it alone (precision 0 at recall 0), every later one
    # has precision 4/5 at recall 1, so AP 0.8
    out = _op(gts + [fp], [0.9, 0.8, 0.7, 0.6, 0.95], gts)
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(0.8, abs=1e-5)


@needs_waymo
def test_ranges_levels_frames_and_types():
    near = [10, 0, 1, 4, 2, 1.5, 0]
    # 29.8 m in the plane but 30.2 m in 3D: Waymo's range is planar
    edge = [29.8, 0, 5, 4, 2, 1.5, 0]
    far = [60, 0, 1, 4, 2, 1.5, 0]
    person = [12, 4, 1, 0.8, 0.8, 1.8, 0]
    gts = [near, edge, far, person]
    # the far car is found in the wrong frame, the person is missed
    out = _op([near, edge, far], [0.9, 0.9, 0.9], gts,
              {'Vehicle': 0.7, 'Pedestrian': 0.5},
              pred_frames=[0, 0, 1], gt_types=[1, 1, 1, PEDESTRIAN],
              gt_frames=[0, 0, 0, 0], difficulty=[1, 2, 1, 1])
    assert out['Vehicle/L2 AP@0.7 [0, 30)'] == pytest.approx(1.0, abs=1e-5)
    assert out['Vehicle/L2 AP@0.7 [50, +inf)'] == pytest.approx(0.0)
    assert 'Vehicle/L2 AP@0.7 [30, 50)' not in out
    # LEVEL_1 leaves out the LEVEL_2 edge car: near found, far missed
    assert out['Vehicle/L1 AP@0.7 [0, 30)'] == pytest.approx(1.0, abs=1e-5)
    assert out['Pedestrian/L1 AP@0.5'] == pytest.approx(0.0)


@needs_waymo
def test_metric_end_to_end_with_fov_and_bin_round_trip(tmp_path):
    # ground truth of two frames written as a Waymo .bin by the worker
    gt_boxes = np.array([CAR, [35, -3, 1, 4, 2, 1.5, 0.0],
                         [15, 1, 0.9, 0.8, 0.8, 1.8, 0.0]], np.float32)
    gt_npz = tmp_path / 'gt.npz'
    np.savez(gt_npz, box=gt_boxes, type=np.array([1, 1, 2], np.uint8),
             context=np.array(['ctx'] * 3), difficulty=np.zeros(3, np.uint8),
             timestamp=np.array([1000, 1001, 1001]),
             num_points=np.array([50, 3, 20]))
    gt_bin = str(tmp_path / 'fov_gt.bin')
    run_worker(WAYMO_PYTHON, 'write-bin', str(gt_npz), gt_bin)
    back = read_waymo_gt(gt_bin, WAYMO_PYTHON)
    np.testing.assert_allclose(back['box'], gt_boxes, rtol=1e-6)
    assert back['num_points'].tolist() == [50, 3, 20]
    assert back['timestamp'].tolist() == [1000, 1001, 1001]

    # a forward camera: x forward, z up (vehicle) -> z forward, y down
    lidar2cam = np.array([[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0],
                          [0, 0, 0, 1]], np.float64)
    cam2img = np.array([[500, 0, 320], [0, 500, 240], [0, 0, 1.0]])
    calib = dict(lidar2cam=lidar2cam, cam2img=cam2img, img_shape=(480, 640))

    def bottom(box):    # Waymo centre -> mmdet3d bottom centre
        b = list(box)
        b[2] -= b[5] / 2
        return b
    behind = bottom([-20, 0, 1, 4, 2, 1.5, 0])    # outside the camera
    samples = [
        _sample([bottom(CAR), behind], [0.9, 0.95], [0, 0], 0, **calib),
        _sample([bottom(gt_boxes[1])], [0.8], [0], 1, **calib)]
    prefix = str(tmp_path / 'out' / 'results')
    metric = WaymoAPMetric(waymo_bin_file=gt_bin, result_prefix=prefix,
                           waymo_python=WAYMO_PYTHON)
    metric.dataset_meta = dict(classes=['Car', 'Pedestrian', 'Cyclist'])
    metric.process({}, samples)
    assert len(metric.results[0]['scores_3d']) == 1    # behind dropped
    out = metric.compute_metrics(metric.results)
    # the car of 3 points is LEVEL_2 only; both cars found: AP 1; the
    # pedestrian is missed
    assert out['Vehicle/L1 AP@0.7'] == pytest.approx(1.0, abs=1e-5)
    assert out['Vehicle/L2 AP@0.5 [30, 50)'] == pytest.approx(1.0, abs=1e-5)
    assert 'Vehicle/L1 AP@0.7 [30, 50)' not in out
    assert out['Pedestrian/L1 AP@0.5'] == pytest.approx(0.0)
    assert out['Pedestrian/L1 AP@0.25'] == pytest.approx(0.0)
    # the predictions went to a Waymo .bin that reads back
    pred = read_waymo_gt(prefix + '.bin', WAYMO_PYTHON)
    np.testing.assert_allclose(pred['box'], gt_boxes[:2], rtol=1e-5,
                               atol=1e-5)


@needs_waymo
def test_wrong_ground_truth_file_is_named(tmp_path):
    gt_npz = tmp_path / 'gt.npz'
    np.savez(gt_npz, box=np.array([CAR], np.float32),
             type=np.array([1], np.uint8), context=np.array(['other']),
             timestamp=np.array([5]), num_points=np.array([10]))
    gt_bin = str(tmp_path / 'gt.bin')
    run_worker(WAYMO_PYTHON, 'write-bin', str(gt_npz), gt_bin)
    metric = WaymoAPMetric(waymo_bin_file=gt_bin, restrict_to_fov=False,
                           waymo_python=WAYMO_PYTHON)
    metric.dataset_meta = dict(classes=['Car'])
    metric.process({}, [_sample([CAR], [0.9], [0], 0)])
    with pytest.raises(ValueError, match='gt.bin: wrong ground truth'):
        metric.compute_metrics(metric.results)


@needs_waymo
@pytest.mark.skipif(not osp.isfile(SAMPLE_GT),
                    reason='mmdet3d Waymo sample absent (../shared)')
def test_reads_mmdet3d_sample_ground_truth():
    gt = read_waymo_gt(SAMPLE_GT, WAYMO_PYTHON)
    assert len(gt['box']) >= 1 and gt['box'].shape[1] == 7
    assert set(gt['type'].tolist()) <= {1, 2, 3, 4}
    out = _op(gt['box'], np.full(len(gt['box']), 0.9), gt['box'],
              gt_types=gt['type'].tolist(),
              difficulty=gt_difficulty(gt['difficulty'],
                                       gt['num_points'])[0].tolist())
    assert out and all(v == pytest.approx(1.0, abs=1e-5)
                       for k, v in out.items() if 'AP@' in k)
