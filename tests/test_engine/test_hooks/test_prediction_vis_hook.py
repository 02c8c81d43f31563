"""cmkd_mmdet3d.engine.hooks.prediction_vis_hook: pictures of predictions
during testing."""
import os
from types import SimpleNamespace

import numpy as np
import torch

GREEN = (60, 220, 60)     # the panel's prediction colour (BGR)


class _Dataset:
    """A LiDAR-only dataset of frames without ground truth."""
    data_root = '/nonexistent'

    def __init__(self, lidar_paths):
        self.lidar_paths = lidar_paths

    def get_data_info(self, idx):
        return dict(lidar_points=dict(lidar_path=self.lidar_paths[idx]))

    def parse_ann_info(self, info):
        return None


def _sample(idx, boxes, scores):
    from mmdet3d.structures import Det3DDataSample, LiDARInstance3DBoxes
    from mmengine.structures import InstanceData
    sample = Det3DDataSample(metainfo=dict(sample_idx=idx))
    sample.pred_instances_3d = InstanceData(
        bboxes_3d=LiDARInstance3DBoxes(torch.tensor(boxes, dtype=torch.float)),
        scores_3d=torch.tensor(scores))
    return sample


def test_draws_boxes_above_the_score_threshold_for_max_samples(tmp_path):
    from cmkd_mmdet3d.engine.hooks import PredictionVisHook
    paths = []
    for i in range(3):
        path = str(tmp_path / f'{i:06d}.bin')
        np.zeros((4, 4), np.float32).tofile(path)
        paths.append(path)
    runner = SimpleNamespace(log_dir=str(tmp_path / 'log'),
                             test_dataloader=SimpleNamespace(
                                 dataset=_Dataset(paths)))
    # a confident car 20 m ahead on the left, an unsure one on the right
    boxes = [[20.0, 10.0, -1.0, 4.0, 2.0, 1.5, 0.0],
             [20.0, -10.0, -1.0, 4.0, 2.0, 1.5, 0.0]]
    hook = PredictionVisHook(max_samples=2, score_thr=0.5)
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, outputs=[
        _sample(i, boxes, [0.9, 0.2]) for i in (2, 0, 1)])
    out = os.path.join(str(tmp_path / 'log'), 'vis', 'test')
    assert hook.written == [os.path.join(out, '000002.png'),
                            os.path.join(out, '000000.png')]
    assert sorted(os.listdir(out)) == ['000000.png', '000002.png']
    picture, name = hook.render_sample(runner.test_dataloader.dataset,
                                       _sample(1, boxes, [0.9, 0.2]))
    assert name == '000001'
    # no image: the BEV alone, 0.1 m per pixel over x 0..50 m, y -30..30 m
    assert picture.shape == (500, 600, 3)
    green = (picture == GREEN).all(-1)
    rows, cols = np.nonzero(green)
    assert len(rows) > 0
    # x in 18 ... 22 m -> rows 280 ... 320; y = +10 m (left) -> columns
    # around (30 - 10) / 0.1 = 200; nothing at y = -10 m (column 400)
    assert 275 <= rows.min() and rows.max() <= 325
    assert 180 <= cols.min() and cols.max() <= 220
    # a new test epoch starts counting again
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, outputs=[_sample(1, boxes, [0.9, 0.2])])
    assert hook.written[-1] == os.path.join(out, '000001.png')
