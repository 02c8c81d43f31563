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
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmdet3d.datasets import KittiDataset
from mmdet3d.registry import DATASETS
from mmengine.logging import print_log

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

    r_rect = np.eye(4)
    r_rect[:3, :3] = get(cam, c2c, 'R_rect_00', 9).reshape(3, 3)
    p2 = np.eye(4)
    p2[:3] = get(cam, c2c, 'P_rect_02', 12).reshape(3, 4)
    velo2cam = np.eye(4)
    velo2cam[:3, :3] = get(velo, v2c, 'R', 9).reshape(3, 3)
    velo2cam[:3, 3] = get(velo, v2c, 'T', 3)
    return dict(lidar2cam=r_rect @ velo2cam, cam2img=p2)


def png_size(path: str) -> Tuple[int, int]:
    """(height, width) from a PNG header; ValueError if it is not one."""
    with open(path, 'rb') as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(f'{path} is not a PNG file')
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


def create_kitti_raw_infos(root: str, split_file: str, out_file: str,
                           progress: bool = True) -> Tuple[int, List[str]]:
    """Write mmdet3d v2-style infos without instances for the frames of
    ``split_file`` under ``root`` (atomically). Returns (number of frames
    written, problems of the skipped frames)."""
    import mmengine
    with open(split_file) as f:
        frames = [ln.strip() for ln in f if ln.strip()]
    if not frames:
        raise ValueError(f'{split_file} lists no frames')
    calib_cache: Dict[str, dict] = {}
    data_list, problems = [], []
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
            problems.append(problem)
            continue
        if date not in calib_cache:
            calib_cache[date] = read_raw_calib(osp.join(root, date))
        calib = calib_cache[date]
        h, w = png_size(osp.join(root, img_rel))
        data_list.append(dict(
            sample_idx=len(data_list),
            frame_id=rel,
            images=dict(CAM2=dict(
                img_path=img_rel, height=h, width=w,
                cam2img=calib['cam2img'].tolist(),
                lidar2cam=calib['lidar2cam'].tolist(),
                lidar2img=(calib['cam2img'] @ calib['lidar2cam']).tolist())),
            lidar_points=dict(num_pts_feats=4, lidar_path=lidar_rel),
            instances=[]))
    infos = dict(
        metainfo=dict(dataset='kitti_raw', info_version='1.1',
                      categories={c: i for i, c in enumerate(RAW_CLASSES)},
                      split_file=osp.basename(split_file)),
        data_list=data_list)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = out_file + '.tmp.pkl'
    mmengine.dump(infos, tmp)
    os.replace(tmp, out_file)
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
    ``mmdet.MultiSourceSampler`` fixes the labeled : unlabeled ratio per
    batch."""

    def __init__(self, *args, data_prefix: dict = dict(pts='', img=''),
                 modality: dict = dict(use_lidar=True, use_camera=True),
                 filter_empty_gt: bool = False, **kwargs) -> None:
        self._bad = set()
        super().__init__(*args, data_prefix=data_prefix, modality=modality,
                         filter_empty_gt=filter_empty_gt, **kwargs)

    def prepare_data(self, index: int):
        try:
            return super().prepare_data(index)
        except (OSError, ValueError, RuntimeError, AssertionError) as e:
            if index not in self._bad:
                self._bad.add(index)
                info = self.get_data_info(index)
                print_log(f'KittiRawDataset: skipping frame '
                          f"{info.get('lidar_points', {}).get('lidar_path')}"
                          f': {type(e).__name__}: {e}', logger='current',
                          level=30)
            return None
