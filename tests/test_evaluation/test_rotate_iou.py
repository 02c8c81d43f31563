"""KittiMetric completes on CPU through the compat rotated-IoU path."""
import numpy as np
import pytest
import torch


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
