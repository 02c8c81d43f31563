"""Write pictures of predictions next to the ground truth during testing."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook

from mmdet3d.registry import HOOKS
from ...utils.atomic_io import atomic_path
from ...visualization import render_prediction_panel


@HOOKS.register_module()
class PredictionVisHook(Hook):
    """Draw predicted (green) and ground-truth (red) boxes on the camera image
    and in bird's eye view over the LiDAR points, for the first
    ``max_samples`` test (and optionally validation) samples.

    Unlike mmdet3d's ``Det3DVisualizationHook`` it needs neither a display
    nor open3d, and it reads images, points and ground truth from the
    dataset's infos, so test pipelines may load points only.

    Args:
        max_samples (int): Pictures per run. Defaults to 8.
        score_thr (float): Lowest drawn prediction score. Defaults to 0.3.
        out_dir (str): Folder, relative to the run's log dir unless
            absolute. Defaults to 'vis'.
        draw_val (bool): Also draw during validation. Defaults to False.
        bev_range: ((x_min, x_max), (y_min, y_max)) shown in BEV, metres.
    """
    priority = 'LOW'

    def __init__(self,
                 max_samples: int = 8,
                 score_thr: float = 0.3,
                 out_dir: str = 'vis',
                 draw_val: bool = False,
                 bev_range=((0.0, 50.0), (-30.0, 30.0))):
        self.max_samples = max_samples
        self.score_thr = score_thr
        self.out_dir = out_dir
        self.draw_val = draw_val
        self.bev_range = tuple(tuple(r) for r in bev_range)
        self._count = 0
        self.written = []

    def before_test_epoch(self, runner) -> None:
        self._count = 0

    def before_val_epoch(self, runner) -> None:
        self._count = 0

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        self._draw(runner, runner.test_dataloader.dataset, outputs, 'test')

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        if self.draw_val:
            self._draw(runner, runner.val_dataloader.dataset, outputs,
                       f'val_epoch{runner.epoch}')

    def _draw(self, runner, dataset, outputs, tag: str) -> None:
        if not outputs:
            return
        from mmengine.dist import is_main_process
        if not is_main_process():
            return
        for sample in outputs:
            if self._count >= self.max_samples:
                return
            self._count += 1
            out_dir = osp.join(runner.log_dir, self.out_dir, tag)
            os.makedirs(out_dir, exist_ok=True)
            picture, name = self.render_sample(dataset, sample)
            path = osp.join(out_dir, f'{name}.png')
            with atomic_path(path, fsync=False) as tmp:
                cv2.imwrite(tmp, picture)
            self.written.append(path)

    def render_sample(self, dataset, sample):
        """The BGR picture of one predicted sample and a file name for it
        (the frame's file stem, e.g. ``000160``)."""
        idx = int(sample.sample_idx)
        info = dataset.get_data_info(idx)
        points = None
        lidar = info.get('lidar_points', {})
        lidar_path = lidar.get('lidar_path')
        if lidar_path and osp.exists(lidar_path):
            # KITTI 4 features, Waymo 6 (the info says)
            points = np.fromfile(lidar_path, np.float32).reshape(
                -1, int(lidar.get('num_pts_feats', 4)))
        img, lidar2img = None, None
        cam = info.get('images', {}).get(getattr(dataset, 'default_cam_key',
                                                 'CAM2'), {})
        img_path = cam.get('img_path')
        # camera datasets give the prefixed path, LiDAR-only ones the name
        if img_path and not osp.exists(img_path):
            img_path = osp.join(dataset.data_root, 'training', 'image_2',
                                osp.basename(img_path))
        if img_path and osp.exists(img_path):
            img = cv2.imread(img_path)
            lidar2img = np.asarray(cam.get('lidar2img'))
        gt = dataset.parse_ann_info(info)
        gt_corners = gt['gt_bboxes_3d'].corners.numpy() if gt else \
            np.zeros((0, 8, 3))
        pred = sample.pred_instances_3d
        keep = pred.scores_3d >= self.score_thr
        pred_corners = pred.bboxes_3d[keep].corners.cpu().numpy()
        frame = lidar_path or img_path
        name = osp.splitext(osp.basename(frame))[0] if frame else \
            f'{idx:06d}'
        title = (f'{name}  GT {len(gt_corners)} (red)  predictions '
                 f'{len(pred_corners)} >= {self.score_thr:g} (green)')
        return render_prediction_panel(img, points, lidar2img, gt_corners,
                                       pred_corners, title,
                                       self.bev_range), name
