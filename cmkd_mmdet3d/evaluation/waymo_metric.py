"""Waymo AP / APH on CPU with the official implementation, in the monocular
protocol of CaDDN and CMKD.

mmdet3d 1.4's ``WaymoMetric`` shells out to ``compute_detection_metrics_main``,
a binary users must build with bazel. The Waymo wheel on PyPI
(``waymo-open-dataset-tf-2-12-0`` 1.6.7) ships the same metric as a
TensorFlow op, but pins tensorflow 2.13 and numpy 1.23.5, which the OpenMMLab
stack cannot share. So :class:`WaymoAPMetric` keeps mmdet3d's ``process``
(camera boxes to the vehicle frame, dropping boxes that miss the image) and
hands the arrays to :mod:`cmkd_mmdet3d.evaluation.waymo_worker`, run by the
interpreter of ``make waymo-env`` in a subprocess. Nothing crosses the border
but ``.npz`` files read with ``allow_pickle=False`` and JSON.

The protocol (CaDDN, Reading et al., CVPR 2021, Sec. 4.1, and OpenPCDet's
``pcdet/datasets/waymo/waymo_eval.py``, which ``Cc-Hy/CMKD`` keeps):

- ground truth of the front camera's field of view (mmdet3d's
  ``fov_gt.bin``), predictions whose centre projects into the image;
- difficulty: a box labelled LEVEL_2 stays LEVEL_2; an unlabelled one is
  LEVEL_1 with more than 5 LiDAR points, else LEVEL_2; boxes with no LiDAR
  point are not evaluated (:func:`gt_difficulty`);
- Hungarian matching of 3D boxes, score cutoffs 0, 0.01, ..., 0.99, 1;
- AP and APH at LEVEL_1 and LEVEL_2, overall and by range ([0, 30), [30,
  50), [50, inf) metres from the vehicle, Waymo's ``RANGE`` breakdown), once
  per IoU setting: Vehicle at 0.7 and at 0.5.

The pure functions here are what the tests call; the worker only runs the
op.
"""
import json
import logging
import os
import os.path as osp
import subprocess
import tempfile
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmdet3d.evaluation.metrics import KittiMetric, WaymoMetric
from mmdet3d.registry import METRICS
from mmengine.fileio import load
from mmengine.logging import MMLogger, print_log

from ..structures.geometry import points_in_fov
from ..utils.atomic_io import atomic_path

__all__ = ['WAYMO_TYPES', 'RANGE_SHARDS', 'find_waymo_python', 'run_worker',
           'lidar_boxes_to_waymo', 'gt_difficulty', 'range_shard',
           'read_waymo_gt', 'write_objects_bin', 'waymo_detection_metrics',
           'summarize_waymo', 'cam_instances_to_kitti_annos',
           'FrontCameraKittiMetric', 'WaymoAPMetric']

# label_pb2.Label.Type, in the order of the op's per-type IoU thresholds
WAYMO_TYPES = ('Unknown', 'Vehicle', 'Pedestrian', 'Sign', 'Cyclist')
# the dataset class names that mean a Waymo type
CLASS_TO_TYPE = {'Car': 'Vehicle', 'Vehicle': 'Vehicle',
                 'Pedestrian': 'Pedestrian', 'Sign': 'Sign',
                 'Cyclist': 'Cyclist'}
# Waymo's RANGE breakdown: distance of the box centre from the vehicle
# origin in the ground plane, metres, and the op's names for the shards
RANGE_EDGES = (0.0, 30.0, 50.0, float('inf'))
RANGE_SHARDS = ('[0, 30)', '[30, 50)', '[50, +inf)')
# CaDDN's and CMKD's Waymo tables: Vehicle at IoU 0.7 and 0.5
DEFAULT_IOUS = ({'Vehicle': 0.7, 'Pedestrian': 0.5, 'Cyclist': 0.5},
                {'Vehicle': 0.5, 'Pedestrian': 0.25, 'Cyclist': 0.25})
WORKER = osp.join(osp.dirname(osp.abspath(__file__)), 'waymo_worker.py')
ENV_HELP = ('the official Waymo metric runs in its own environment '
            '(tensorflow-cpu 2.13, numpy 1.23.5, waymo-open-dataset-tf-2-12-0'
            ' 1.6.7). Build it with `make waymo-env` (or `bash tools/misc/'
            'setup_waymo_env.sh DIR`), or point CMKD_WAYMO_PYTHON at the '
            'python of such an environment')


def find_waymo_python(waymo_python: Optional[str] = None) -> str:
    """The interpreter of the Waymo environment.

    Looked up in this order: the argument, ``$CMKD_WAYMO_PYTHON``,
    ``$CMKD_WAYMO_VENV/bin/python``, ``./.venv-waymo/bin/python``.

    Raises:
        FileNotFoundError: when none exists, saying how to make one.
    """
    candidates = [waymo_python, os.environ.get('CMKD_WAYMO_PYTHON')]
    venv = os.environ.get('CMKD_WAYMO_VENV')
    if venv:
        candidates.append(osp.join(venv, 'bin', 'python'))
    candidates.append(osp.join('.venv-waymo', 'bin', 'python'))
    tried = [c for c in candidates if c]
    for path in tried:
        if osp.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f'No Waymo environment (tried {tried}): '
                            f'{ENV_HELP}.')


def run_worker(python: str, command: str, src: str, dst: str,
               timeout: float = 3600) -> None:
    """Run one command of the worker script in the Waymo environment.

    Raises:
        RuntimeError: the worker failed; the message holds its stderr tail.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONNOUSERSITE='1')
    env.pop('PYTHONPATH', None)    # never leak .venv's packages into it
    proc = subprocess.run([python, WORKER, command, src, dst], env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = '\n'.join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f'The Waymo worker ({python} {WORKER} {command} '
                           f'{src}) failed with exit code {proc.returncode}:'
                           f'\n{tail}\nIf the environment is broken, '
                           f'rebuild it: {ENV_HELP}.')


def lidar_boxes_to_waymo(boxes: np.ndarray) -> np.ndarray:
    """mmdet3d LiDAR boxes to Waymo boxes.

    Args:
        boxes: (N, 7+) ``(x, y, z_bottom, dx, dy, dz, yaw)`` of
            ``LiDARInstance3DBoxes`` in the vehicle frame, metres / radians.

    Returns:
        (N, 7) float32 ``(center_x, center_y, center_z, length, width,
        height, heading)``: the centre moved up by half the height, the
        heading wrapped to [-pi, pi) (mmdet3d's ``Prediction2Waymo``).
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return np.zeros((0, 7), np.float32)
    boxes = boxes.reshape(-1, boxes.shape[-1])
    out = boxes[:, :7].copy()
    out[:, 2] += out[:, 5] / 2
    out[:, 6] = out[:, 6] - np.floor(out[:, 6] / (2 * np.pi) + 0.5) * 2 * np.pi
    return out.astype(np.float32)


def gt_difficulty(level: np.ndarray,
                  num_points: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Difficulty of the ground truth as OpenPCDet's ``waymo_eval.py``
    (CaDDN's and ``Cc-Hy/CMKD``'s evaluation) sets it.

    Args:
        level: (N,) ``detection_difficulty_level`` of the labels: 0 unset,
            1 LEVEL_1, 2 LEVEL_2.
        num_points: (N,) LiDAR points in each box.

    Returns:
        ``(difficulty, keep)``: (N,) uint8 levels 1 or 2 (unset becomes 1
        with more than 5 points, else 2) and (N,) bool, False for boxes
        without any point, which are not evaluated.
    """
    level = np.asarray(level).astype(np.uint8).copy()
    num_points = np.asarray(num_points)
    unset = level == 0
    level[unset & (num_points > 5)] = 1
    level[unset & (num_points <= 5)] = 2
    return level, num_points > 0


def range_shard(boxes: np.ndarray) -> np.ndarray:
    """Index into :data:`RANGE_SHARDS` of each Waymo box (N, 7): its
    centre's distance from the vehicle origin in the ground plane."""
    dist = np.hypot(boxes[:, 0], boxes[:, 1])
    return np.searchsorted(np.asarray(RANGE_EDGES[1:-1]), dist, side='right')


def read_waymo_gt(gt_bin: str, python: str) -> Dict[str, np.ndarray]:
    """The objects of a Waymo ground-truth ``.bin``: ``box`` (N, 7) Waymo
    boxes, ``context`` (N,) str, ``timestamp`` (N,) int64 microseconds,
    ``type`` (N,) uint8 (:data:`WAYMO_TYPES`), ``difficulty`` (N,) uint8 and
    ``num_points`` (N,) int64."""
    if not osp.isfile(gt_bin):
        raise FileNotFoundError(f'Waymo ground truth {gt_bin!r} does not '
                                'exist (mmdet3d names it waymo_format/'
                                'fov_gt.bin for camera detectors)')
    with tempfile.TemporaryDirectory() as tmp:
        out = osp.join(tmp, 'gt.npz')
        run_worker(python, 'read-gt', gt_bin, out)
        with np.load(out, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


def write_objects_bin(arrays: Mapping[str, np.ndarray], path: str,
                      python: str) -> str:
    """Write boxes as a Waymo ``Objects`` ``.bin``, atomically, through the
    worker: ``box`` (N, 7) Waymo boxes, ``type``, ``context``,
    ``timestamp``, and ``score`` (predictions) or ``difficulty`` /
    ``num_points`` (ground truth)."""
    with tempfile.TemporaryDirectory() as tmp, atomic_path(path) as out:
        src = osp.join(tmp, 'objects.npz')
        np.savez(src, **arrays)
        run_worker(python, 'write-bin', src, out)
    return path


def waymo_detection_metrics(pred: Mapping[str, np.ndarray],
                            gt: Mapping[str, np.ndarray],
                            iou_thresholds: Mapping[str, float],
                            python: str) -> Dict[str, Dict[str, float]]:
    """The Waymo ``detection_metrics`` op on arrays, by breakdown.

    Args:
        pred: ``box`` (N, 7) Waymo boxes, ``type`` (N,) Waymo type ids,
            ``score`` (N,) in [0, 1], ``frame`` (N,) int frame ids.
        gt: ``box``, ``type``, ``frame`` as ``pred`` and ``difficulty``
            (M,) levels 1 / 2 (:func:`gt_difficulty`).
        iou_thresholds: IoU per Waymo type name; types not given get 0.5.
        python: the Waymo environment's interpreter.

    Returns:
        ``{op breakdown name: {'ap': float, 'aph': float}}``, for example
        ``'OBJECT_TYPE_TYPE_VEHICLE_LEVEL_1'`` and
        ``'RANGE_TYPE_VEHICLE_[0, 30)_LEVEL_2'``. A shard without ground
        truth reads 0 here; :func:`summarize_waymo` leaves it out.
    """
    unknown = set(iou_thresholds) - set(WAYMO_TYPES)
    if unknown:
        raise KeyError(f'IoU thresholds for unknown Waymo types {unknown}; '
                       f'the types are {WAYMO_TYPES}')
    ious = np.array([0.0] + [float(iou_thresholds.get(t, 0.5))
                             for t in WAYMO_TYPES[1:]], np.float32)
    if len(pred['score']) and (np.min(pred['score']) < 0
                               or np.max(pred['score']) > 1):
        raise ValueError('Waymo AP needs scores in [0, 1], got '
                         f'[{np.min(pred["score"])}, {np.max(pred["score"])}]')
    arrays = dict(
        breakdowns=np.array(['OBJECT_TYPE', 'RANGE']), iou_thresholds=ious,
        pred_box=np.asarray(pred['box'], np.float32).reshape(-1, 7),
        pred_type=np.asarray(pred['type'], np.uint8),
        pred_score=np.asarray(pred['score'], np.float32),
        pred_frame=np.asarray(pred['frame'], np.int64),
        gt_box=np.asarray(gt['box'], np.float32).reshape(-1, 7),
        gt_type=np.asarray(gt['type'], np.uint8),
        gt_frame=np.asarray(gt['frame'], np.int64),
        gt_difficulty=np.asarray(gt['difficulty'], np.uint8))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'in.npz'), osp.join(tmp, 'out.json')
        np.savez(src, **arrays)
        run_worker(python, 'evaluate', src, dst)
        with open(dst) as f:
            return json.load(f)


def _gt_counts(gt: Mapping[str, np.ndarray]) -> Dict[str, int]:
    """GT boxes per op breakdown name (LEVEL_2 counts LEVEL_1 too)."""
    counts = {}
    shard = range_shard(np.asarray(gt['box']).reshape(-1, 7))
    for tid, tname in enumerate(WAYMO_TYPES[1:], start=1):
        of_type = np.asarray(gt['type']) == tid
        for lvl in (1, 2):
            at_level = of_type & (np.asarray(gt['difficulty']) <= lvl)
            up = tname.upper()
            counts[f'OBJECT_TYPE_TYPE_{up}_LEVEL_{lvl}'] = int(at_level.sum())
            for i, name in enumerate(RANGE_SHARDS):
                counts[f'RANGE_TYPE_{up}_{name}_LEVEL_{lvl}'] = int(
                    (at_level & (shard == i)).sum())
    return counts


def summarize_waymo(raw: Mapping[str, Mapping[str, float]],
                    gt: Mapping[str, np.ndarray],
                    iou_thresholds: Mapping[str, float],
                    types: Sequence[str]) -> Dict[str, float]:
    """Flat metric names from the op's breakdowns, for the types asked.

    Names are ``'{Type}/L{1,2} AP@{iou}'`` and ``... APH@{iou}``, and the
    same with `` {range}`` appended (for example ``'Vehicle/L1 AP@0.7
    [0, 30)'``). Shards without ground truth are left out rather than
    reported as 0. Values are in [0, 1].
    """
    counts = _gt_counts(gt)
    out = {}
    for tname in types:
        iou = iou_thresholds.get(tname, 0.5)
        up = tname.upper()
        for lvl in (1, 2):
            keys = [(f'OBJECT_TYPE_TYPE_{up}_LEVEL_{lvl}', '')]
            keys += [(f'RANGE_TYPE_{up}_{s}_LEVEL_{lvl}', f' {s}')
                     for s in RANGE_SHARDS]
            for key, suffix in keys:
                if counts.get(key, 0) == 0:
                    continue
                out[f'{tname}/L{lvl} AP@{iou:g}{suffix}'] = raw[key]['ap']
                out[f'{tname}/L{lvl} APH@{iou:g}{suffix}'] = raw[key]['aph']
    return out


def cam_instances_to_kitti_annos(instances: Sequence[Mapping],
                                 label2cat: Mapping[int, str]) -> dict:
    """One camera's boxes of an mmdet3d info (``cam_instances[cam]``) as
    the ground-truth annos of KITTI's evaluation.

    Args:
        instances (sequence of dict): ``bbox_3d`` (camera frame: x, y, z of
            the bottom centre, l, h, w in metres, rotation_y in rad),
            ``bbox`` (x1, y1, x2, y2 in px) and ``bbox_label_3d``.
        label2cat (dict): Label -> class name.

    Returns:
        dict: ``name``, ``truncated`` and ``occluded`` (0: Waymo has
        neither), ``alpha`` (rotation_y - atan2(x, z), KITTI's observation
        angle), ``bbox`` (N, 4), ``location`` (N, 3), ``dimensions``
        (N, 3), ``rotation_y``, ``score`` (0).
    """
    box3d = np.array([i['bbox_3d'] for i in instances],
                     np.float64).reshape(-1, 7)
    n = len(box3d)
    return dict(
        name=np.array([label2cat[int(i['bbox_label_3d'])]
                       for i in instances], dtype=str),
        truncated=np.zeros(n), occluded=np.zeros(n, np.int64),
        alpha=box3d[:, 6] - np.arctan2(box3d[:, 0], box3d[:, 2]),
        bbox=np.array([i['bbox'] for i in instances],
                      np.float64).reshape(-1, 4),
        location=box3d[:, :3], dimensions=box3d[:, 3:6],
        rotation_y=box3d[:, 6], score=np.zeros(n))


class FrontCameraKittiMetric(KittiMetric):
    """mmdet3d's ``KittiMetric`` on Waymo-format infos: the ground truth is
    one camera's boxes (``cam_instances``), a result finds its frame by
    ``context_name`` and ``timestamp`` (Waymo's ``sample_idx`` is not a
    list position), and predictions in the vehicle frame are kept wherever
    they are (no KITTI LiDAR range).

    Args:
        ann_file (str): The val infos (mmdet3d v1.4 Waymo layout).
        cam (str): The camera. Defaults to ``'CAM_FRONT'``.
    """

    def __init__(self, ann_file: str, cam: str = 'CAM_FRONT') -> None:
        super().__init__(ann_file=ann_file, metric='bbox',
                         pcd_limit_range=[-1e4, -1e4, -1e4, 1e4, 1e4, 1e4],
                         default_cam_key=cam)
        self.cam = cam

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """``KittiMetric.compute_metrics`` after finding each result's
        frame.

        Args:
            results (list[dict]): ``KittiMetric``'s results, each with the
                ``context_name`` and ``timestamp`` of its frame.

        Returns:
            dict: ``KittiMetric``'s AP40 / AP11 values (in %).
        """
        infos = load(self.ann_file)['data_list']
        position = {(str(i['context_name']), int(i['timestamp'])): k
                    for k, i in enumerate(infos)}
        for r in results:
            key = (str(r['context_name']), int(r['timestamp']))
            if key not in position:
                raise KeyError(f'{self.ann_file} has no frame of context '
                               f'{key[0]}, timestamp {key[1]}: wrong infos?')
            r['sample_idx'] = position[key]
        return super().compute_metrics(results)

    def convert_annos_to_kitti_annos(self, data_infos: dict) -> List[dict]:
        """The infos of ``data_list`` with their ``kitti_annos``."""
        label2cat = {v: k for k, v in
                     data_infos['metainfo']['categories'].items()}
        out = []
        for info in data_infos['data_list']:
            if self.cam not in info.get('images', {}):
                raise KeyError(f'{self.ann_file}: frame '
                               f'{info.get("sample_idx")} has no image '
                               f'{self.cam!r}')
            cam_instances = info.get('cam_instances', {}).get(self.cam, [])
            out.append(dict(info, kitti_annos=cam_instances_to_kitti_annos(
                cam_instances, label2cat)))
        return out


@METRICS.register_module()
class WaymoAPMetric(WaymoMetric):
    """Waymo LEVEL_1 / LEVEL_2 AP and APH through the official op, on CPU.

    A drop-in for mmdet3d's ``WaymoMetric`` (same ``process``, same
    ``waymo_bin_file``) that needs no bazel binary: see the module
    docstring for the protocol.

    Args:
        waymo_bin_file (str): Waymo ground truth, an ``Objects`` ``.bin``
            (mmdet3d's ``fov_gt.bin`` for the front camera).
        iou_thresholds (sequence of dict): One evaluation per entry, IoU per
            type name. Defaults to Vehicle 0.7 and 0.5 (Pedestrian and
            Cyclist 0.5 and 0.25).
        restrict_to_fov (bool): Drop predictions whose centre does not
            project into the image (needs ``lidar2cam``, ``cam2img`` and
            ``img_shape`` in the data samples). Defaults to True.
        waymo_python (str, optional): The Waymo environment's python (see
            :func:`find_waymo_python`).
        result_prefix (str, optional): Also write the predictions to
            ``{result_prefix}.bin`` (Waymo ``Objects``, the submission
            format); with ``format_only=True`` only that.
        metric (str): ``'mAP'``: Waymo AP / APH (the official op, the
            Waymo environment). ``'kitti'``: the fallback where that
            environment cannot be had, KITTI's AP40 / AP11 (``KittiMetric``)
            of the same predictions against the front camera's boxes of
            ``ann_file`` (its ``cam_instances``); not the Waymo protocol,
            and logged as such. Its keys are ``KittiMetric``'s
            (``Kitti metric/pred_instances_3d/KITTI/Car_3D_AP40_...``).
        ann_file (str, optional): The val infos, for ``metric='kitti'``.
        **kwargs: ``load_type``, ``format_only``, ``nms_cfg``,
            ``collect_device``, ``prefix`` of ``WaymoMetric``.
    """
    default_prefix = 'Waymo AP'

    def __init__(self,
                 waymo_bin_file: str,
                 iou_thresholds: Sequence[Mapping[str, float]] = DEFAULT_IOUS,
                 restrict_to_fov: bool = True,
                 waymo_python: Optional[str] = None,
                 metric: str = 'mAP',
                 ann_file: Optional[str] = None,
                 **kwargs) -> None:
        if metric not in ('mAP', 'kitti'):
            raise ValueError(f"WaymoAPMetric computes 'mAP' (AP / APH at "
                             f"LEVEL_1 and LEVEL_2) or 'kitti' (KITTI-style "
                             f"AP of the front camera), not {metric!r}")
        if metric == 'kitti':
            if not ann_file:
                raise ValueError("WaymoAPMetric(metric='kitti') needs "
                                 'ann_file: the val infos whose front-camera'
                                 ' boxes are the ground truth')
            kwargs.setdefault('prefix', 'Kitti metric')
        super().__init__(waymo_bin_file=waymo_bin_file, metric=metric,
                         **kwargs)
        self.ann_file = ann_file
        self.iou_thresholds = [dict(t) for t in iou_thresholds]
        for t in self.iou_thresholds:
            bad = set(t) - set(WAYMO_TYPES)
            if bad:
                raise KeyError(f'iou_thresholds names unknown Waymo types '
                               f'{sorted(bad)}; the types are {WAYMO_TYPES}')
        self.restrict_to_fov = restrict_to_fov
        self.waymo_python = waymo_python

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """mmdet3d's ``process``, then the centre-in-image filter.

        Args:
            data_batch (dict): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): The model's outputs, with
                ``pred_instances_3d`` and the frame's metainfo.
        """
        for sample in data_samples:
            missing = [k for k in ('context_name', 'timestamp')
                       if k not in sample]
            if missing:
                raise KeyError(
                    f'WaymoAPMetric needs {missing} in the data sample of '
                    f'frame {sample.get("sample_idx")} to find its ground '
                    'truth; add them to the meta_keys of the test '
                    'pipeline\'s Pack3DDetInputs / PackCMKDInputs')
        start = len(self.results)
        super().process(data_batch, data_samples)
        if not self.restrict_to_fov:
            return
        for result, sample in zip(self.results[start:], data_samples):
            missing = [k for k in ('lidar2cam', 'cam2img', 'img_shape')
                       if k not in sample]
            if missing:
                raise KeyError(
                    f'WaymoAPMetric(restrict_to_fov=True) needs {missing} '
                    f'in the data sample of frame {sample.get("sample_idx")}'
                    '; add them to Pack3DDetInputs meta_keys or set '
                    'restrict_to_fov=False')
            boxes = np.asarray(result['bboxes_3d']).reshape(-1, 7)
            centres = lidar_boxes_to_waymo(boxes)[:, :3]
            lidar2cam, cam2img = sample['lidar2cam'], sample['cam2img']
            if np.asarray(lidar2cam).ndim == 3:    # multi-view: camera 0
                lidar2cam, cam2img = lidar2cam[0], cam2img[0]
            keep = points_in_fov(centres, np.asarray(lidar2cam),
                                 np.asarray(cam2img), sample['img_shape'])
            for key in ('bboxes_3d', 'scores_3d', 'labels_3d'):
                result[key] = np.asarray(result[key])[keep]

    def _kitti_style(self, results: List[dict], logger) -> Dict[str, float]:
        """``KittiMetric`` on the collected (vehicle-frame) predictions and
        the front camera's boxes of ``ann_file``."""
        import torch
        from mmdet3d.structures import LiDARInstance3DBoxes
        print_log('Waymo environment not used: KITTI-style AP40 / AP11 of '
                  'the front camera (KittiMetric on the val infos), not the '
                  'Waymo protocol', logger=logger, level=logging.WARNING)
        view = FrontCameraKittiMetric(self.ann_file)
        view.dataset_meta = self.dataset_meta
        kitti_results = [dict(
            context_name=r['context_name'], timestamp=r['timestamp'],
            pred_instances=dict(),
            pred_instances_3d=dict(
                bboxes_3d=LiDARInstance3DBoxes(torch.as_tensor(
                    np.asarray(r['bboxes_3d'], np.float32).reshape(-1, 7))),
                scores_3d=torch.as_tensor(np.asarray(r['scores_3d'],
                                                     np.float32)),
                labels_3d=torch.as_tensor(np.asarray(r['labels_3d'],
                                                     np.int64))))
            for r in results]
        return view.compute_metrics(kitti_results)

    def _pred_arrays(self, results: List[dict],
                     frames: Dict[Tuple[str, int], int]) -> dict:
        box, typ, score, frame, ctx, ts = [], [], [], [], [], []
        for r in results:
            n = len(r['scores_3d'])
            names = [self.classes[int(i)] for i in np.asarray(r['labels_3d'])]
            unknown = {c for c in names if c not in CLASS_TO_TYPE}
            if unknown:
                raise KeyError(f'classes {sorted(unknown)} have no Waymo type'
                               f' (known: {sorted(CLASS_TO_TYPE)})')
            box.append(lidar_boxes_to_waymo(
                np.asarray(r['bboxes_3d']).reshape(-1, 7)))
            typ += [WAYMO_TYPES.index(CLASS_TO_TYPE[c]) for c in names]
            score.append(np.asarray(r['scores_3d'], np.float32))
            key = (str(r['context_name']), int(r['timestamp']))
            frame.append(np.full(n, frames[key], np.int64))
            ctx += [key[0]] * n
            ts += [key[1]] * n
        return dict(box=np.concatenate(box) if box else np.zeros((0, 7)),
                    type=np.array(typ, np.uint8),
                    score=np.concatenate(score) if score else np.zeros(0),
                    frame=np.concatenate(frame) if frame else np.zeros(0),
                    context=np.array(ctx, dtype=str),
                    timestamp=np.array(ts, np.int64))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """AP / APH of the collected results.

        Args:
            results (List[dict]): What ``process`` collected, one per frame.

        Returns:
            Dict[str, float]: ``'{Type}/L{1,2} AP@{iou}[ range]'`` and
            ``APH`` values in [0, 1] (see :func:`summarize_waymo`).
        """
        logger = MMLogger.get_current_instance()
        self.classes = self.dataset_meta['classes']
        if self.metrics == ['kitti']:
            return self._kitti_style(results, logger)
        python = find_waymo_python(self.waymo_python)
        if self.load_type == 'mv_image_based':
            results = self.merge_multi_view_boxes(
                [results[i:i + 5] for i in range(0, len(results), 5)])
        frames = {}
        for r in results:
            frames.setdefault((str(r['context_name']), int(r['timestamp'])),
                              len(frames))
        pred = self._pred_arrays(results, frames)
        if self.result_prefix is not None:
            keys = ('box', 'type', 'score', 'context', 'timestamp')
            write_objects_bin({k: pred[k] for k in keys},
                              f'{self.result_prefix}.bin', python)
            print_log(f'Waymo predictions written to {self.result_prefix}'
                      '.bin', logger=logger)
        if self.format_only:
            return {}

        gt = read_waymo_gt(self.waymo_bin_file, python)
        gt_frame = np.array([frames.get((c, int(t)), -1) for c, t in
                             zip(gt['context'], gt['timestamp'])], np.int64)
        if len(frames) and len(gt_frame) and not (gt_frame >= 0).any():
            first = next(iter(frames))
            raise ValueError(f'None of the {len(frames)} evaluated frames '
                             f'(first: context {first[0]}, timestamp '
                             f'{first[1]}) has an object in '
                             f'{self.waymo_bin_file}: wrong ground truth?')
        difficulty, keep = gt_difficulty(gt['difficulty'], gt['num_points'])
        keep &= gt_frame >= 0
        types = sorted({CLASS_TO_TYPE[c] for c in self.classes
                        if c in CLASS_TO_TYPE}, key=WAYMO_TYPES.index)
        wanted = np.isin(gt['type'], [WAYMO_TYPES.index(t) for t in types])
        keep &= wanted
        gt_arrays = dict(box=gt['box'][keep], type=gt['type'][keep],
                         frame=gt_frame[keep], difficulty=difficulty[keep])
        print_log(f'Waymo AP: {len(frames)} frames, {len(pred["score"])} '
                  f'predictions, {int(keep.sum())} ground-truth boxes '
                  f'({int((gt_arrays["difficulty"] == 1).sum())} LEVEL_1)',
                  logger=logger)
        metrics = {}
        for ious in self.iou_thresholds:
            raw = waymo_detection_metrics(pred, gt_arrays, ious, python)
            metrics.update(summarize_waymo(raw, gt_arrays, ious, types))
        print_log(format_waymo_table(metrics), logger=logger)
        return metrics


def format_waymo_table(metrics: Mapping[str, float]) -> str:
    """A text table, one row per ``Type/Level AP|APH@iou``, one column per
    range (overall first), values in percent."""
    cols = [''] + [f' {s}' for s in RANGE_SHARDS]
    rows = sorted({k.split(' [')[0] for k in metrics})
    width = max([len(r) for r in rows] + [10])
    head = f'{"":<{width}} ' + ' '.join(
        f'{(c.strip() or "overall"):>11}' for c in cols)
    lines = [head]
    for r in rows:
        cells = [metrics.get(r + c) for c in cols]
        lines.append(f'{r:<{width}} ' + ' '.join(
            f'{100 * v:11.2f}' if v is not None else f'{"-":>11}'
            for v in cells))
    return '\n'.join(lines)
