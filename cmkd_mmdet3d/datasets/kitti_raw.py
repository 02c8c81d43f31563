"""Unlabeled KITTI raw frames: infos from the drives and their per-date
calibration files, and a dataset that yields them without annotations.

Layout (KITTI raw, also written by the synthetic world under ``raw/``)::

    ROOT/2011_09_26/calib_cam_to_cam.txt, calib_velo_to_cam.txt
    ROOT/2011_09_26/2011_09_26_drive_0001_sync/image_02/data/0000000000.png
    ROOT/2011_09_26/2011_09_26_drive_0001_sync/velodyne_points/data/0000000000.bin

Split files (``eigen_clean.txt``, ``kitti_raw.txt``) list one frame per line,
``2011_09_26/2011_09_26_drive_0001_sync/image_02/data/0000000000`` (an
optional extension is ignored).
"""
import os
import os.path as osp
import struct
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np
from mmdet3d.datasets import KittiDataset
from mmdet3d.registry import DATASETS
from mmengine.logging import print_log

from ..structures.geometry import (check_calibration, compose_lidar2img,
                                   to_homogeneous)
from ..utils.atomic_io import atomic_path
from .checks import check_class_names, load_data_list_checked

RAW_CLASSES = ('Pedestrian', 'Cyclist', 'Car')


def _read_kv(path: str) -> Dict[str, np.ndarray]:
    out = {}
    with open(path) as f:
        for line in f:
            key, sep, value = line.partition(':')
            if not sep:
                continue
            try:
                out[key.strip()] = np.array(value.split(), dtype=np.float64)
            except ValueError:
                pass          # calib_time and other text fields
    return out


def read_raw_calib(date_dir: str) -> Dict[str, np.ndarray]:
    """``lidar2cam`` (4, 4) = R_rect_00 @ [R | T] (velodyne -> rectified
    camera) and ``cam2img`` (4, 4) = P_rect_02 padded, from a KITTI raw date
    folder; a ValueError names the file and key that are missing or
    malformed."""
    c2c = osp.join(date_dir, 'calib_cam_to_cam.txt')
    v2c = osp.join(date_dir, 'calib_velo_to_cam.txt')
    for path in (c2c, v2c):
        if not osp.isfile(path):
            raise FileNotFoundError(f'calibration file {path} not found')
    cam, velo = _read_kv(c2c), _read_kv(v2c)

    def get(table, path, key, size):
        if key not in table or table[key].size != size:
            got = table[key].size if key in table else 'no'
            raise ValueError(f'{path}: {key} needs {size} values, got {got}')
        return table[key]

    r_rect = to_homogeneous(get(cam, c2c, 'R_rect_00', 9).reshape(3, 3))
    p2 = to_homogeneous(get(cam, c2c, 'P_rect_02', 12).reshape(3, 4))
    velo2cam = to_homogeneous(np.concatenate(
        [get(velo, v2c, 'R', 9).reshape(3, 3),
         get(velo, v2c, 'T', 3).reshape(3, 1)], 1))
    return dict(lidar2cam=r_rect @ velo2cam, cam2img=p2)


def png_size(path: str) -> Tuple[int, int]:
    """(height, width) from a PNG header; ValueError if it is not one."""
    with open(path, 'rb') as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(f'{path} is not a PNG file '
                         f'({osp.getsize(path)} bytes)')
    width, height = struct.unpack('>II', head[16:24])
    return height, width


def _frame_problem(img: str, lidar: str) -> Optional[str]:
    """Why a raw frame cannot be used, or None."""
    for path in (img, lidar):
        if not osp.isfile(path):
            return f'missing {path}'
    size = osp.getsize(lidar)
    if size == 0 or size % 16:
        return f'corrupt {lidar} ({size} bytes, not N x 4 float32)'
    try:
        png_size(img)
    except ValueError as e:
        return f'corrupt {e}'
    return None


def _checked_calib(date_dir: str):
    """:func:`read_raw_calib` of a date folder whose matrices are usable,
    else the problem (a str naming the files)."""
    try:
        calib = read_raw_calib(date_dir)
        check_calibration(calib['lidar2cam'], calib['cam2img'],
                          f'the calibration files of {date_dir}')
    except (OSError, ValueError) as e:
        return f'bad calibration: {e}'
    return calib


def create_kitti_raw_infos(root: str, split_file: str, out_file: str,
                           progress: bool = True) -> Tuple[int, List[str]]:
    """Write mmdet3d v2-style infos without instances for the frames of
    ``split_file`` under ``root`` (atomically).

    Missing or corrupt frames, and the frames of a date whose calibration
    files are missing, malformed or singular, are skipped and listed in
    ``<out_file>.skipped.txt``.

    Args:
        root (str): The KITTI raw root (the folder of the date folders).
        split_file (str): One ``DATE/DRIVE/image_02/data/NNNNNNNNNN`` a
            line.
        out_file (str): The info pickle to write.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[int, list[str]]: The number of frames written and the
        problems of the skipped frames.

    Raises:
        ValueError: Naming the split file and the number of missing frames
            when no frame is usable (nothing is written but the
            ``.skipped.txt`` list), or when the split file is empty.
    """
    import mmengine
    with open(split_file) as f:
        frames = [ln.strip() for ln in f if ln.strip()]
    if not frames:
        raise ValueError(f'{split_file} lists no frames')
    calib_cache: Dict[str, object] = {}
    data_list, problems = [], []
    missing = 0
    iterator = mmengine.track_iter_progress(frames) if progress else frames
    for rel in iterator:
        rel = osp.splitext(rel)[0] if rel.endswith(('.png', '.bin')) \
            else rel
        parts = rel.split('/')
        if len(parts) != 5 or parts[2] != 'image_02':
            problems.append(f'bad line {rel!r} (expected DATE/DRIVE/'
                            'image_02/data/NNNNNNNNNN)')
            continue
        date, drive, _, _, name = parts
        img_rel = f'{date}/{drive}/image_02/data/{name}.png'
        lidar_rel = f'{date}/{drive}/velodyne_points/data/{name}.bin'
        problem = _frame_problem(osp.join(root, img_rel),
                                 osp.join(root, lidar_rel))
        if problem:
            missing += problem.startswith('missing ')
            problems.append(problem)
            continue
        if date not in calib_cache:
            calib_cache[date] = _checked_calib(osp.join(root, date))
        calib = calib_cache[date]
        if isinstance(calib, str):
            problems.append(f'{rel}: {calib}')
            continue
        h, w = png_size(osp.join(root, img_rel))
        data_list.append(dict(
            sample_idx=len(data_list),
            frame_id=rel,
            images=dict(CAM2=dict(
                img_path=img_rel, height=h, width=w,
                cam2img=calib['cam2img'].tolist(),
                lidar2cam=calib['lidar2cam'].tolist(),
                lidar2img=compose_lidar2img(calib['lidar2cam'],
                                            calib['cam2img']).tolist())),
            lidar_points=dict(num_pts_feats=4, lidar_path=lidar_rel),
            instances=[]))
    if not data_list:
        skipped = out_file + '.skipped.txt'
        with open(skipped, 'w') as f:
            f.write('\n'.join(problems) + '\n')
        raise ValueError(
            f'{split_file}: none of its {len(frames)} frames is usable under '
            f'{root} ({missing} missing, {len(problems) - missing} bad; all '
            f'listed in {skipped}), e.g. {problems[0]}; no infos written')
    infos = dict(
        metainfo=dict(dataset='kitti_raw', info_version='1.1',
                      categories={c: i for i, c in enumerate(RAW_CLASSES)},
                      split_file=osp.basename(split_file)),
        data_list=data_list)
    with atomic_path(out_file) as tmp:
        mmengine.dump(infos, tmp)
    if problems:
        with open(out_file + '.skipped.txt', 'w') as f:
            f.write('\n'.join(problems) + '\n')
    return len(data_list), problems


@DATASETS.register_module()
class KittiRawDataset(KittiDataset):
    """Unlabeled KITTI raw frames (infos from
    ``tools/create_data.py kitti-raw``): images, LiDAR sweeps and
    calibration, no annotations. Never drops a frame for having no boxes
    (``filter_empty_gt=False``); a frame that fails to load (missing or
    corrupt file) is reported once and replaced by another one, so a long
    run does not die on one bad file. Put ``FOVFilterPoints`` in the
    pipeline (raw sweeps cover 360 degrees). Mix with labeled data through
    ``ConcatDataset(ignore_keys=['dataset', 'categories', 'info_version',
    'split_file'])`` (the infos' own metainfo differs);
    ``MixedBatchSampler`` (epoch-based) or ``mmdet.MultiSourceSampler``
    (iteration-based) fixes the labeled : unlabeled ratio per batch.

    Pseudo-labels (offline mode; CMKD, Hong et al., ECCV 2022, learning
    from unlabeled data) come from either
    ``pseudo_labels``, a cache written by ``PseudoLabelHook`` (frame id ->
    LiDAR boxes (N, 7), labels, scores; re-read whenever the file changes,
    so dataloader workers see every new round), or infos read back by
    ``tools/misc/pseudo_labels.py import`` (instances with a ``score``).
    A frame then carries ``gt_bboxes_3d``, ``gt_labels_3d`` and
    ``gt_scores_3d`` and ``has_labels=True``; frames without pseudo-labels
    have ``has_labels=False`` (CMKD leaves them out of ground-truth losses).
    The pipeline of a pseudo-labeled dataset must not drop boxes
    (no ``ObjectRangeFilter`` / ``ObjectNameFilter``: the hook keeps only
    in-range boxes of known classes); ``PackCMKDInputs`` checks it.
    A cache whose class list is not the dataset's is refused (its label ids
    would mean other classes), and so is an info instance with a
    non-finite box or score or a box size <= 0 (the message names the
    info file, the frame and the instance index), a class name that KITTI
    does not know and an info file that is not one (empty, truncated,
    foreign: the message names the file).

    Skipped frames are recorded in ``self.skipped`` (frame id -> the file
    at fault and the reason) and logged once: a frame whose calibration
    is singular or non-finite is left out when the infos are read, a frame
    whose files fail to load (missing, zero-byte or corrupt image or
    sweep, OpenCV decoding errors included) is replaced by another one.
    """

    def __init__(self, *args, data_prefix: dict = dict(pts='', img=''),
                 modality: dict = dict(use_lidar=True, use_camera=True),
                 filter_empty_gt: bool = False,
                 pseudo_labels: Optional[str] = None, **kwargs) -> None:
        self._bad = set()
        self.skipped: Dict[str, str] = {}
        self.pseudo_labels = pseudo_labels
        classes = (kwargs.get('metainfo') or {}).get('classes')
        if classes is not None:
            check_class_names(classes, self.METAINFO['classes'],
                              f"{type(self).__name__}(ann_file="
                              f"{kwargs.get('ann_file', '')})")
        self._pseudo_cache = (None, None)       # (stat key, labels)
        super().__init__(*args, data_prefix=data_prefix, modality=modality,
                         filter_empty_gt=filter_empty_gt, **kwargs)

    @staticmethod
    def frame_key(info: dict) -> str:
        """The id of a frame in pseudo-label caches."""
        return info.get('frame_id') or \
            info['lidar_points']['lidar_path']

    def current_pseudo_labels(self) -> Optional[dict]:
        """The cache at ``self.pseudo_labels``, re-read when it changed."""
        path = self.pseudo_labels
        if not path:
            return None
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None           # the hook has not written a round yet
        key = (path, st.st_mtime_ns, st.st_size)
        if self._pseudo_cache[0] != key:
            from .pseudo_labels import load_pseudo_labels
            cache = load_pseudo_labels(path)
            self.check_pseudo_label_classes(cache, path)
            self._pseudo_cache = (key, cache['frames'])
        return self._pseudo_cache[1]

    def check_pseudo_label_classes(self, cache: dict, path: str) -> None:
        """Refuse a cache whose label ids mean other classes than ours.

        Args:
            cache (dict): A pseudo-label cache (``meta['classes']`` lists
                the class of each label id).
            path (str): Its file (for the message).

        Raises:
            ValueError: Naming the file and both class lists, when the
                cache's class list is missing or differs from
                ``self.metainfo['classes']`` (its label ids would be read
                as other classes).
        """
        ours = list(self.metainfo['classes'])
        theirs = cache.get('meta', {}).get('classes')
        if theirs is None or list(theirs) != ours:
            raise ValueError(
                f'pseudo-label cache {path} was made for the classes '
                f'{None if theirs is None else list(theirs)}, this dataset '
                f'has {ours}: its label ids would mean other classes. '
                'Relabel with this class list (PseudoLabelHook) or give '
                'the dataset the classes of the cache.')

    def load_data_list(self) -> List[dict]:
        """mmengine's ``load_data_list``, refusing an empty, truncated or
        foreign info file with its name
        (:func:`cmkd_mmdet3d.datasets.checks.load_data_list_checked`).

        Returns:
            list[dict]: The parsed infos of the usable frames.
        """
        return load_data_list_checked(self, super().load_data_list)

    def _skip(self, frame: str, reason: str) -> None:
        if frame not in self.skipped:
            self.skipped[frame] = reason
            print_log(f'KittiRawDataset: skipping frame {frame}: {reason}',
                      logger='current', level=30)

    def parse_data_info(self, info: dict) -> Union[dict, List[dict]]:
        """Check the info's instances (imported pseudo-labels) and its
        calibration, then mmdet3d's parsing.

        Args:
            info (dict): One raw entry of the info file's ``data_list``.

        Returns:
            dict | list: As :meth:`KittiDataset.parse_data_info`, or an
            empty list (the frame is left out and recorded in
            ``self.skipped``) when its calibration is unusable (singular or
            non-finite ``lidar2cam`` / ``cam2img``).

        Raises:
            ValueError: Naming the info file, the frame and the instance
                index, for a 3D box with a non-finite value or a size <= 0
                or a non-finite score.
        """
        from .pseudo_labels import check_info_instances
        check_info_instances(info, self.ann_file)
        cam = (info.get('images') or {}).get(self.default_cam_key) or {}
        if 'lidar2cam' in cam and 'cam2img' in cam:
            frame = self.frame_key(info)
            try:
                check_calibration(cam['lidar2cam'], cam['cam2img'],
                                  f'frame {frame} in {self.ann_file}')
            except ValueError as e:
                self._skip(frame, f'{self.ann_file}: {e}')
                return []
        return super().parse_data_info(info)

    def parse_ann_info(self, info: dict) -> dict:
        ann_info = super().parse_ann_info(info)
        if 'score' in ann_info:            # imported pseudo-label infos
            ann_info['gt_scores_3d'] = np.asarray(ann_info.pop('score'),
                                                  dtype=np.float32)
        elif info.get('pseudo_labeled'):     # labeled, without boxes
            ann_info['gt_scores_3d'] = np.zeros(
                len(ann_info['gt_labels_3d']), dtype=np.float32)
        return ann_info

    def get_data_info(self, index: int) -> dict:
        info = super().get_data_info(index)
        info['has_labels'] = bool(info.get('pseudo_labeled', False))
        labels = self.current_pseudo_labels()
        if labels is not None and not self.test_mode:
            entry = labels.get(self.frame_key(info))
            if entry is not None:
                from mmdet3d.structures import LiDARInstance3DBoxes
                ann = info.setdefault('ann_info', {})
                ann['gt_bboxes_3d'] = LiDARInstance3DBoxes(
                    np.asarray(entry['bboxes_3d'],
                               dtype=np.float32).reshape(-1, 7))
                ann['gt_labels_3d'] = np.asarray(entry['labels_3d'],
                                                 dtype=np.int64)
                ann['gt_scores_3d'] = np.asarray(entry['scores_3d'],
                                                 dtype=np.float32)
                info['has_labels'] = True
        if 'ann_info' in info and 'gt_scores_3d' in info['ann_info']:
            # LoadAnnotations3D copies boxes and labels only
            info['gt_scores_3d'] = info['ann_info']['gt_scores_3d']
        return info

    def prepare_data(self, index: int):
        """The sample of frame ``index``, or None (mmengine then draws
        another frame) when it fails to load; the frame is recorded in
        ``self.skipped`` with the file at fault and the reason.

        Args:
            index (int): The frame index.

        Returns:
            dict | None: The pipeline's output, or None.
        """
        try:
            return super().prepare_data(index)
        except (OSError, ValueError, RuntimeError, AssertionError,
                cv2.error) as e:
            if index not in self._bad:
                self._bad.add(index)
                info = self.get_data_info(index)
                img = info.get('img_path') or ''
                lidar = info.get('lidar_points', {}).get('lidar_path') or ''
                problem = _frame_problem(img, lidar) if img and lidar \
                    else None
                reason = f'{type(e).__name__}: {e}'
                if problem:
                    reason = f'{problem} ({reason})'
                elif lidar and lidar not in reason and img not in reason:
                    reason = f'{lidar}: {reason}'
                self._skip(self.frame_key(info), reason)
            return None
