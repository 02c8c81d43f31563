"""Pseudo-labels of unlabeled frames (CMKD, Hong et al., ECCV 2022: the
student also learns from the teacher's predictions on unlabeled frames):
thresholds, the cache
written by ``PseudoLabelHook`` and KITTI label files with a score column.

Cache (a pickle, written atomically)::

    dict(meta=dict(version=..., classes=[...], score_thr=[...], ...),
         frames={frame_id: dict(bboxes_3d=(N, 7) float32 LiDAR boxes
                                (x, y, z bottom centre, l, w, h, yaw),
                                labels_3d=(N,) int64, scores_3d=(N,) float32)},
         failed={frame_id: reason})

read back with an allowlist unpickler (numpy and plain containers only,
:mod:`cmkd_mmdet3d.utils.safe_pickle`), so a crafted file cannot run code.

KITTI label files: the 15 columns of ``label_2`` plus a 16th, the score;
a frame without boxes gets one ``DontCare`` line (as the reference's V1).
"""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ..structures.geometry import project_points, to_homogeneous
from ..utils.atomic_io import atomic_open

ScoreThr = Union[float, Sequence[float], Dict[str, float]]


def class_thresholds(score_thr: ScoreThr,
                     classes: Sequence[str]) -> np.ndarray:
    """Per-class score thresholds (C,) from a float, a per-class list or a
    ``{class name: threshold}`` dict (every class must be named)."""
    if isinstance(score_thr, dict):
        unknown = sorted(set(score_thr) - set(classes))
        missing = [c for c in classes if c not in score_thr]
        if unknown or missing:
            raise KeyError(f'score_thr {score_thr}: unknown classes {unknown}'
                           f', missing classes {missing} (classes: '
                           f'{list(classes)})')
        return np.array([score_thr[c] for c in classes], dtype=np.float32)
    if isinstance(score_thr, (list, tuple)):
        if len(score_thr) != len(classes):
            raise ValueError(f'score_thr has {len(score_thr)} entries for '
                             f'{len(classes)} classes {list(classes)}')
        return np.asarray(score_thr, dtype=np.float32)
    return np.full(len(classes), float(score_thr), dtype=np.float32)


def select_pseudo_boxes(bboxes: np.ndarray, labels: np.ndarray,
                        scores: np.ndarray, thresholds: np.ndarray,
                        bev_range: Optional[Sequence[float]] = None) -> dict:
    """Keep the boxes of known classes whose score is at least their class
    threshold and whose centre lies in ``bev_range`` (x_min, y_min, x_max,
    y_max; half-open like ``in_range_bev``)."""
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 7)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    known = (labels >= 0) & (labels < len(thresholds))
    keep = known.copy()
    keep[known] = scores[known] >= thresholds[labels[known]]
    if bev_range is not None:
        x0, y0, x1, y1 = bev_range
        keep &= (bboxes[:, 0] > x0) & (bboxes[:, 0] < x1) & \
            (bboxes[:, 1] > y0) & (bboxes[:, 1] < y1)
    return dict(bboxes_3d=bboxes[keep], labels_3d=labels[keep],
                scores_3d=scores[keep])


def atomic_pickle(obj, path: str) -> None:
    """Write ``obj`` to ``path`` through a temporary file and a rename."""
    with atomic_open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_pseudo_labels(path: str) -> dict:
    """Read a pseudo-label cache (``latest.pkl``, ``labels.pkl``, a
    ``part-*.pkl`` shard) with the allowlist unpickler.

    Args:
        path (str): The cache file.

    Returns:
        dict: ``frames``, ``failed`` and ``meta`` (the latter two default
        to empty dicts).

    Raises:
        UnsafePickleError: If the file names a global other than numpy's
            and a few builtin containers' (nothing from it has run then).
        ValueError: If the file is not a readable pseudo-label cache.
        The messages name the file.
    """
    from ..utils.safe_pickle import UnsafePickleError, safe_pickle_load
    with open(path, 'rb') as f:
        try:
            data = safe_pickle_load(f, source=path)
        except UnsafePickleError:
            raise
        except Exception as e:       # truncated or foreign file
            raise ValueError(f'{path} is not a readable pseudo-label cache: '
                             f'{type(e).__name__}: {e}') from None
    if not isinstance(data, dict) or not isinstance(data.get('frames'),
                                                    dict):
        raise ValueError(f'{path} is not a pseudo-label cache (expected a '
                         "dict with 'frames')")
    classes = (data.get('meta') or {}).get('classes')
    for key, entry in data['frames'].items():
        if not isinstance(entry, dict) or not {
                'bboxes_3d', 'labels_3d', 'scores_3d'} <= set(entry):
            raise ValueError(f'{path}: frame {key} is not a dict with '
                             'bboxes_3d, labels_3d and scores_3d')
        boxes = np.asarray(entry['bboxes_3d'])
        scores = np.asarray(entry['scores_3d']).reshape(-1)
        n = {boxes.shape[0] if boxes.ndim == 2 and boxes.shape[1] == 7
             else -1, len(np.asarray(entry['labels_3d']).reshape(-1)),
             len(scores)}
        if len(n) != 1 or -1 in n:
            raise ValueError(f'{path}: frame {key} has boxes (N, 7), labels '
                             'and scores of different lengths')
        bad = ~np.isfinite(boxes.astype(np.float64)).all(1) | \
            ~np.isfinite(scores.astype(np.float64)) | \
            (boxes[:, 3:6] <= 0).any(1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f'{path}: frame {key}, box {i}: non-finite value or size '
                f'(l, w, h) <= 0 (box {boxes[i].tolist()}, score '
                f'{scores[i]})')
        labels = np.asarray(entry['labels_3d']).reshape(-1)
        num = len(classes) if classes is not None else np.inf
        if len(labels) and (labels.dtype.kind not in 'iu' or
                            labels.min() < 0 or labels.max() >= num):
            raise ValueError(
                f'{path}: frame {key}: labels {labels.tolist()} are not '
                f'ids of the classes {classes}')
    data.setdefault('failed', {})
    data.setdefault('meta', {})
    return data


# ---------------------------------------------------------------------------
# KITTI label files with a score column
def label_file_for(frame_id: str) -> str:
    """Relative label path of a frame: KITTI raw ids
    ``DATE/DRIVE/image_02/data/N`` -> ``DATE/DRIVE/label_02/N.txt``; other
    ids (``000123``) -> ``000123.txt``."""
    return frame_id.replace('image_02/data', 'label_02') + '.txt'


def _lidar_to_camera_rows(bboxes: np.ndarray, lidar2cam: np.ndarray):
    """(N, 7) LiDAR boxes -> camera (x, y, z bottom centre, l, h, w, ry)."""
    from mmdet3d.structures import Box3DMode, LiDARInstance3DBoxes
    cam = LiDARInstance3DBoxes(bboxes).convert_to(Box3DMode.CAM,
                                                  np.asarray(lidar2cam))
    return cam


def kitti_label_lines(entry: dict, classes: Sequence[str],
                      lidar2cam: np.ndarray, cam2img: np.ndarray,
                      img_shape: Sequence[int], digits: int = 4) -> List[str]:
    """The label-file lines of one frame (16 columns; ``DontCare`` when
    empty). ``digits`` decimals (KITTI's files use 2)."""
    boxes = np.asarray(entry['bboxes_3d'], dtype=np.float32).reshape(-1, 7)
    if len(boxes) == 0:
        return ['DontCare -1 -1 -10 -1 -1 -1 -1 -1 -1 -1 -1000 -1000 -1000 '
                '-10 0']
    cam = _lidar_to_camera_rows(boxes, lidar2cam)
    t = cam.tensor.numpy().astype(np.float64)
    corners = cam.corners.numpy().reshape(-1, 3)
    p = to_homogeneous(np.asarray(cam2img, dtype=np.float64))
    # corners behind the camera land far out on their side (w clamped)
    uv = project_points(corners, p, min_w=1e-3)[0].reshape(-1, 8, 2)
    h, w = img_shape[:2]
    lines, f = [], f'{{:.{digits}f}}'
    for i, row in enumerate(t):
        x, y, z, l, hh, ww, ry = row
        alpha = ry - np.arctan2(x, z)
        alpha = (alpha + np.pi) % (2 * np.pi) - np.pi
        u0, v0 = np.clip(uv[i].min(0), 0, [w - 1, h - 1])
        u1, v1 = np.clip(uv[i].max(0), 0, [w - 1, h - 1])
        vals = [alpha, u0, v0, u1, v1, hh, ww, l, x, y, z, ry,
                entry['scores_3d'][i]]
        name = classes[int(entry['labels_3d'][i])]
        lines.append(f'{name} 0.00 0 ' + ' '.join(f.format(v) for v in vals))
    return lines


def export_kitti_labels(cache: dict, infos: List[dict], out_dir: str,
                        classes: Sequence[str], digits: int = 4) -> int:
    """Write one label file per frame of ``infos`` that the cache labels;
    returns the number of files."""
    n = 0
    for info in infos:
        key = info.get('frame_id') or info['lidar_points']['lidar_path']
        entry = cache['frames'].get(key)
        if entry is None:
            continue
        cam = info['images']['CAM2']
        lines = kitti_label_lines(entry, classes, np.array(cam['lidar2cam']),
                                  np.array(cam['cam2img']),
                                  (cam['height'], cam['width']), digits)
        path = osp.join(out_dir, label_file_for(key))
        with atomic_open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        n += 1
    return n


_LABEL_COLUMNS = ('truncated', 'occluded', 'alpha', 'bbox left',
                  'bbox top', 'bbox right', 'bbox bottom', 'h', 'w', 'l',
                  'x', 'y', 'z', 'rotation_y', 'score')


def _parse_label_line(path: str, n: int, cols: List[str]) -> List[float]:
    """The numbers of a KITTI label line (15 columns, or 16 with a score).

    Args:
        path (str): The label file (for messages).
        n (int): The 1-based line number (for messages).
        cols (list[str]): The line's columns, the type first.

    Returns:
        list[float]: The 14 (15 with a score) numbers after the type.

    Raises:
        ValueError: ``path:line``, when a value is not a finite number or
            a size (h, w, l) is not positive.
    """
    try:
        v = [float(c) for c in cols[1:]]
    except ValueError as e:
        raise ValueError(f'{path}:{n}: {e}') from None
    for name, x in zip(_LABEL_COLUMNS, v):
        if not np.isfinite(x):
            raise ValueError(f'{path}:{n}: {cols[0]} has {name} = {x} (not '
                             'a finite number)')
    for name, x in zip(('h', 'w', 'l'), v[7:10]):
        if x <= 0:
            raise ValueError(f'{path}:{n}: {cols[0]} has {name} = {x}; box '
                             'sizes must be positive')
    return v


def check_kitti_label_file(path: str) -> int:
    """Check a KITTI ``label_2`` file (15 columns, or 16 with a score)
    before a converter reads it.

    ``DontCare`` lines (whose sizes are -1 by convention) are skipped.

    Args:
        path (str): The label file.

    Returns:
        int: The number of boxes checked.

    Raises:
        ValueError: Naming the file and line, for a line with another
            number of columns, a value that is not a finite number or a
            size h, w or l <= 0.
    """
    boxes = 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            cols = line.split()
            if not cols or cols[0] == 'DontCare':
                continue
            if len(cols) not in (15, 16):
                raise ValueError(f'{path}:{n}: {len(cols)} columns, expected '
                                 '15 (KITTI label) or 16 (with a score)')
            _parse_label_line(path, n, cols)
            boxes += 1
    return boxes


def check_info_instances(info: dict, source: str) -> None:
    """Refuse the instances of one info (mmdet3d v2 format) whose 3D box
    has a non-finite value or a size <= 0.

    Instances with ``bbox_label_3d == -1`` (``DontCare``, dropped by the
    KITTI datasets) are not checked.

    Args:
        info (dict): One entry of an info file's ``data_list``.
        source (str): The info file (for messages).

    Raises:
        ValueError: Naming the info file, the frame (``frame_id``, else
            ``sample_idx``, else the LiDAR path) and the instance index.
    """
    frame = info.get('frame_id') or info.get('sample_idx', info.get(
        'lidar_points', {}).get('lidar_path'))
    for i, inst in enumerate(info.get('instances') or []):
        if inst.get('bbox_label_3d', 0) == -1 or 'bbox_3d' not in inst:
            continue
        box = np.asarray(inst['bbox_3d'], dtype=np.float64).reshape(-1)
        # camera boxes x, y, z, l, h, w, ry (LiDAR ones: x, y, z, l, w, h,
        # yaw): the sizes are columns 3 to 5 either way
        if len(box) < 7 or not np.isfinite(box).all() or \
                (box[3:6] <= 0).any():
            raise ValueError(
                f'{source}: frame {frame}, instance {i}: bbox_3d '
                f'{box.tolist()} has a non-finite value or a size <= 0')
        score = inst.get('score')
        if score is not None and not np.isfinite(float(score)):
            raise ValueError(f'{source}: frame {frame}, instance {i}: score '
                             f'{score} is not a finite number')


def read_kitti_label_file(path: str, classes: Sequence[str]) -> List[dict]:
    """Instances (mmdet3d v2 info format, camera boxes ``bbox_3d`` = x, y,
    z, l, h, w, ry) with a ``score`` from a 16-column label file.

    ``DontCare`` and classes not in ``classes`` are left out; every other
    line is checked first.

    Args:
        path (str): The label file.
        classes (Sequence[str]): Class names by label id.

    Returns:
        list[dict]: The instances of the file.

    Raises:
        ValueError: Naming the file and line, for a line without 16
            columns, with a value that is not a finite number (NaN / inf
            score, coordinates ...) or with a size h, w or l <= 0.
    """
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            cols = line.split()
            if not cols or cols[0] == 'DontCare':
                continue
            if len(cols) != 16:
                raise ValueError(f'{path}:{n}: {len(cols)} columns, expected '
                                 '16 (KITTI label + score)')
            v = _parse_label_line(path, n, cols)
            if cols[0] not in classes:
                continue
            h, w, l, x, y, z, ry = v[7:14]
            out.append(dict(
                bbox=v[3:7], bbox_label=classes.index(cols[0]),
                bbox_3d=[x, y, z, l, h, w, ry],
                bbox_label_3d=classes.index(cols[0]), truncated=v[0],
                occluded=int(v[1]), alpha=v[2], score=v[14]))
    return out


def import_kitti_labels(infos: dict, label_dir: str,
                        classes: Sequence[str]) -> dict:
    """Infos with the instances of the label files under ``label_dir``
    (``pseudo_labeled=True`` on every frame that has a file; frames without
    a file keep no instances). Returns a new infos dict."""
    import copy
    out = copy.deepcopy(infos)
    out['metainfo'] = dict(out.get('metainfo', {}))
    out['metainfo']['categories'] = {c: i for i, c in enumerate(classes)}
    for info in out['data_list']:
        key = info.get('frame_id') or info['lidar_points']['lidar_path']
        path = osp.join(label_dir, label_file_for(key))
        if osp.exists(path):
            info['instances'] = read_kitti_label_file(path, list(classes))
            info['pseudo_labeled'] = True
    return out
