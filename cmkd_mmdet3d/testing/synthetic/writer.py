"""Write the synthetic world in the KITTI object and KITTI raw layouts.

This is the writer of :data:`~.rig.KITTI_RIG` (or a variant of it with
another LiDAR): the KITTI layouts hold one camera, ``image_2`` /
``image_02`` with projection ``P2``. A rig with other cameras needs its own
writer (see the package docstring).
"""
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from ...utils.atomic_io import atomic_path
from .frame import KITTI_IMG_SHAPE, make_frame, rig_lidar
from .geometry import Calibration
from .rig import KITTI_RIG, CameraSpec, SensorRig

# The KITTI object layout: training/<dir>/<NNNNNN>.<ext> ...
IMAGE_DIR = 'image_2'
POINTS_DIR = 'velodyne'
CALIB_DIR = 'calib'
LABEL_DIR = 'label_2'
# ... and the KITTI raw layout: raw/<date>/<drive>/<dir>/data/<N>.<ext>
RAW_IMAGE_DIR = 'image_02'
RAW_POINTS_DIR = 'velodyne_points'

_CALIB_KEYS = ('P0', 'P1', 'P2', 'P3', 'R0_rect', 'Tr_velo_to_cam',
               'Tr_imu_to_velo')


def _fmt(mat: np.ndarray) -> str:
    return ' '.join(f'{v:.12e}' for v in np.asarray(mat).ravel())


def write_calib_txt(path: str, calib: Calibration) -> None:
    """A KITTI object-benchmark ``calib/*.txt`` file."""
    d = calib.as_dict()
    with open(path, 'w') as f:
        for key in _CALIB_KEYS:
            f.write(f'{key}: {_fmt(d[key])}\n')


def write_raw_calib(date_dir: str, calib: Calibration) -> None:
    """Per-date ``calib_cam_to_cam.txt`` / ``calib_velo_to_cam.txt`` /
    ``calib_imu_to_velo.txt`` as KITTI raw ships them (rectified part)."""
    h, w = KITTI_IMG_SHAPE
    with open(osp.join(date_dir, 'calib_cam_to_cam.txt'), 'w') as f:
        f.write(
            'calib_time: 09-Jan-2012 13:57:47\ncorner_dist: 9.950000e-02\n')
        for cam, p in enumerate((calib.P0, calib.P1, calib.P2, calib.P3)):
            k = p[:, :3]
            f.write(f'S_0{cam}: {w:.6e} {h:.6e}\n')
            f.write(f'K_0{cam}: {_fmt(k)}\n')
            f.write(f'D_0{cam}: {_fmt(np.zeros(5))}\n')
            f.write(f'R_0{cam}: {_fmt(np.eye(3))}\n')
            f.write(f'T_0{cam}: {_fmt(np.linalg.solve(k, p[:, 3]))}\n')
            f.write(f'S_rect_0{cam}: {w:.6e} {h:.6e}\n')
            f.write(f'R_rect_0{cam}: {_fmt(calib.R0_rect)}\n')
            f.write(f'P_rect_0{cam}: {_fmt(p)}\n')
    with open(osp.join(date_dir, 'calib_velo_to_cam.txt'), 'w') as f:
        f.write('calib_time: 15-Mar-2012 11:37:16\n')
        f.write(f'R: {_fmt(calib.Tr_velo_to_cam[:, :3])}\n')
        f.write(f'T: {_fmt(calib.Tr_velo_to_cam[:, 3])}\n')
        f.write('delta_f: 0.000000e+00 0.000000e+00\n')
        f.write('delta_c: 0.000000e+00 0.000000e+00\n')
    with open(osp.join(date_dir, 'calib_imu_to_velo.txt'), 'w') as f:
        f.write('calib_time: 25-May-2012 16:47:16\n')
        f.write(f'R: {_fmt(calib.Tr_imu_to_velo[:, :3])}\n')
        f.write(f'T: {_fmt(calib.Tr_imu_to_velo[:, 3])}\n')


def kitti_camera(rig: SensorRig) -> CameraSpec:
    """The one camera of a rig that the KITTI layouts can hold (``image_2``,
    projection P2, as mmdet3d's KITTI converter reads it)."""
    if len(rig.cameras) != 1 or rig.cameras[0].projection != 'P2':
        raise ValueError(
            f'the KITTI layout writer holds one camera with projection P2 '
            f'(image_2); rig {rig.name!r} has '
            f'{[c.projection for c in rig.cameras]}')
    return rig.cameras[0]


def frame_seed(seed: int, split: str, index: int) -> int:
    """Seed of one frame: independent of how many frames are generated."""
    tag = {'training': 1, 'raw': 2, 'testing': 3}[split]
    return int(np.random.SeedSequence([seed, tag, index]).generate_state(1)[0])


def _atomic_write(path: str, write) -> None:
    # no fsync per frame: a world of thousands of files is regenerated, not
    # recovered, after a crash; the rename alone keeps readers safe
    with atomic_path(path, fsync=False) as tmp:
        write(tmp)


def _write_image(path, image):
    _atomic_write(path, lambda p: cv2.imwrite(p, image[..., ::-1]))


def _write_points(path, points):
    _atomic_write(path, lambda p: points.astype(np.float32).tofile(p))


def _object_job(args):
    root, idx, seed, img_shape, beams, az_step, rig, split = args
    dates = rig.calib_dates
    calib = rig.calibration_for_date(dates[idx % len(dates)])
    name = f'{idx:06d}'
    tr = osp.join(root, split)
    # the last file written marks a finished frame: the label file, or the
    # calibration in testing/ (no labels, as KITTI's test split)
    last = osp.join(tr, LABEL_DIR if split == 'training' else CALIB_DIR,
                    name + '.txt')
    if osp.exists(last):
        return idx  # finished by an earlier, interrupted run
    frame = make_frame(
        frame_seed(seed, split, idx), calib, img_shape, beams, az_step,
        rig=rig)
    _write_image(osp.join(tr, IMAGE_DIR, name + '.png'), frame.image)
    _write_points(osp.join(tr, POINTS_DIR, name + '.bin'), frame.points)
    if split == 'training':
        write_calib_txt(osp.join(tr, CALIB_DIR, name + '.txt'), calib)
        _atomic_write(
            osp.join(tr, LABEL_DIR, name + '.txt'),
            lambda p: open(p, 'w').write('\n'.join(frame.labels) +
                                         ('\n' if frame.labels else '')))
    else:
        _atomic_write(last, lambda p: write_calib_txt(p, calib))
    return idx


def _raw_job(args):
    root, idx, seed, img_shape, beams, az_step, rig, rel = args
    date = rel.split('/')[0]
    drive_dir = osp.join(root, 'raw',
                         osp.dirname(osp.dirname(osp.dirname(rel))))
    frame_name = osp.basename(rel)
    velo = osp.join(drive_dir, RAW_POINTS_DIR, 'data', frame_name + '.bin')
    if osp.exists(velo):
        return idx
    frame = make_frame(
        frame_seed(seed, 'raw', idx), rig.calibration_for_date(date),
        img_shape, beams, az_step, rig=rig)
    _write_image(
        osp.join(drive_dir, RAW_IMAGE_DIR, 'data', frame_name + '.png'),
        frame.image)
    _write_points(velo, frame.points)
    return idx


def raw_frame_list(num_unlabeled: int,
                   frames_per_drive: int = 20,
                   rig: SensorRig = KITTI_RIG) -> List[str]:
    """Frame ids like ``2011_09_30/2011_09_30_drive_0001_sync/image_02/data/
    0000000003`` (the eigen_clean.txt format), spread over the rig's
    dates."""
    dates = rig.calib_dates
    out = []
    for i in range(num_unlabeled):
        drive = i // frames_per_drive
        date = dates[drive % len(dates)]
        out.append(f'{date}/{date}_drive_{drive + 1:04d}_sync/'
                   f'{RAW_IMAGE_DIR}/data/{i % frames_per_drive:010d}')
    return out


#: Bumped whenever a change of the generator changes its frames.
GENERATOR_VERSION = 1


def _check_manifest(out_dir: str, params: dict) -> None:
    """Frames of an interrupted run are reused, so a folder may only be
    resumed with the settings that made it (``world.json``)."""
    import json
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, 'world.json')
    if osp.exists(path):
        with open(path) as f:
            old = json.load(f)
        keys = list(params) + [k for k in old if k not in params]
        diff = {
            k: (old.get(k), params.get(k))
            for k in keys if old.get(k) != params.get(k)
        }
        if diff:
            raise ValueError(
                f'{out_dir} holds a world made with other settings ('
                + ', '.join(f'{k}: {a} != {b}' for k, (a, b) in diff.items())
                + '); use another --out or delete the folder')
        return
    _atomic_write(path,
                  lambda p: open(p, 'w').write(json.dumps(params, indent=1)))


def generate_world(out_dir: str,
                   num_train: int,
                   num_val: int,
                   num_unlabeled: int = 0,
                   seed: int = 0,
                   img_shape: Optional[Tuple[int, int]] = None,
                   num_beams: Optional[int] = None,
                   azimuth_step_deg: Optional[float] = None,
                   workers: int = 1,
                   make_infos: bool = True,
                   rig: SensorRig = KITTI_RIG,
                   num_test: int = 0) -> Dict[str, str]:
    """Write a synthetic KITTI-format world to ``out_dir``.

    ``img_shape`` defaults to the camera's native size, ``num_beams`` and
    ``azimuth_step_deg`` to the rig's LiDAR. ``num_test`` frames go to
    ``testing/`` without labels, numbered from 000000 as KITTI's test split
    (``ImageSets/test.txt``, ``kitti_infos_test.pkl``). Resumable: frames
    already written by an interrupted run are kept. Returns the paths of
    the info files written.
    """
    from mmengine.utils import track_parallel_progress, track_progress
    camera = kitti_camera(rig)
    img_shape = tuple(camera.img_shape if img_shape is None else img_shape)
    lidar = rig_lidar(rig, num_beams, azimuth_step_deg)
    num_beams, azimuth_step_deg = lidar.num_beams, lidar.azimuth_step_deg
    params = dict(
        seed=seed,
        img_shape=list(img_shape),
        num_beams=num_beams,
        azimuth_step_deg=azimuth_step_deg,
        generator=GENERATOR_VERSION)
    if rig != KITTI_RIG:  # worlds of KITTI_RIG predate the key
        params['rig'] = rig.name
    _check_manifest(out_dir, params)
    tr = osp.join(out_dir, 'training')
    for sub in (IMAGE_DIR, POINTS_DIR, CALIB_DIR, LABEL_DIR):
        os.makedirs(osp.join(tr, sub), exist_ok=True)
    if num_test:
        for sub in (IMAGE_DIR, POINTS_DIR, CALIB_DIR):
            os.makedirs(osp.join(out_dir, 'testing', sub), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'ImageSets'), exist_ok=True)
    ids = [f'{i:06d}' for i in range(num_train + num_val)]
    splits = dict(
        train=ids[:num_train], val=ids[num_train:], trainval=ids,
        test=[f'{i:06d}' for i in range(num_test)])
    for name, lst in splits.items():
        with open(osp.join(out_dir, 'ImageSets', f'{name}.txt'), 'w') as f:
            f.write(''.join(f'{i}\n' for i in lst))

    def run(func, tasks, what):
        if not tasks:
            return
        print(f'generating {len(tasks)} {what} frames', flush=True)
        if workers > 1:
            track_parallel_progress(func, tasks, workers, file=sys.stdout)
        else:
            track_progress(func, tasks, file=sys.stdout)

    run(_object_job,
        [(out_dir, i, seed, img_shape, num_beams, azimuth_step_deg, rig,
          'training') for i in range(len(ids))], 'labelled')
    run(_object_job,
        [(out_dir, i, seed, img_shape, num_beams, azimuth_step_deg, rig,
          'testing') for i in range(num_test)], 'test (unlabelled)')

    raw = raw_frame_list(num_unlabeled, rig=rig)
    for date in sorted({r.split('/')[0] for r in raw}):
        os.makedirs(osp.join(out_dir, 'raw', date), exist_ok=True)
        write_raw_calib(
            osp.join(out_dir, 'raw', date), rig.calibration_for_date(date))
    for rel in raw:
        drive = osp.join(out_dir, 'raw', rel.split(f'/{RAW_IMAGE_DIR}')[0])
        os.makedirs(osp.join(drive, RAW_IMAGE_DIR, 'data'), exist_ok=True)
        os.makedirs(osp.join(drive, RAW_POINTS_DIR, 'data'), exist_ok=True)
    run(_raw_job,
        [(out_dir, i, seed, img_shape, num_beams, azimuth_step_deg, rig, rel)
         for i, rel in enumerate(raw)], 'unlabelled (raw)')
    paths = {}
    if raw:
        split = osp.join(out_dir, 'ImageSets', 'eigen_clean.txt')
        with open(split, 'w') as f:
            f.write(''.join(r + '\n' for r in raw))
        if make_infos:
            from ...datasets.kitti_raw import create_kitti_raw_infos
            paths['raw'] = osp.join(out_dir, 'raw',
                                    'kitti_infos_eigen_clean.pkl')
            create_kitti_raw_infos(osp.join(out_dir, 'raw'), split,
                                   paths['raw'], progress=False)
    if make_infos:
        paths.update(create_kitti_infos(out_dir))
    return paths


def _mmdet3d_tools_path() -> str:
    import mmdet3d
    path = osp.join(osp.dirname(mmdet3d.__file__), '.mim')
    if not osp.isdir(osp.join(path, 'tools', 'dataset_converters')):
        raise RuntimeError(f'mmdet3d dataset converters not found under '
                           f'{path}/tools (mmdet3d installed from a wheel?)')
    return path


def _fix_ignored_categories(path: str) -> None:
    """mmdet3d 1.4's updater resets its set of ignored classes for every
    frame, so ``metainfo.categories`` only lists ``DontCare: -1`` when the
    *last* frame has one, and KittiMetric then fails on label -1. Add it
    whenever any instance carries label -1."""
    import mmengine
    infos = mmengine.load(path)
    if any(inst['bbox_label'] == -1 for info in infos['data_list']
           for inst in info['instances']):
        if -1 not in infos['metainfo']['categories'].values():
            infos['metainfo']['categories']['DontCare'] = -1
            mmengine.dump(infos, path)


def create_kitti_infos(root: str,
                       prefix: str = 'kitti',
                       with_gt_database: bool = True) -> Dict[str, str]:
    """Infos, FOV-reduced point clouds and the GT database, through
    mmdet3d's own KITTI converters (``tools/dataset_converters``).

    Every ``training/label_2`` file is checked first
    (:func:`~cmkd_mmdet3d.datasets.pseudo_labels.check_kitti_label_file`):
    a box with a size <= 0 or a value that is not a finite number is
    refused with the file and line.

    Args:
        root (str): The KITTI-layout root.
        prefix (str): Prefix of the info files. Defaults to 'kitti'.
        with_gt_database (bool): Also write the GT database. Defaults to
            True.

    Returns:
        dict: Split name -> info file path.
    """
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    root = osp.abspath(root)
    tools_root = _mmdet3d_tools_path()
    sys.path.insert(0, tools_root)
    try:
        from tools.dataset_converters import kitti_converter
        from tools.dataset_converters.create_gt_database import \
            create_groundtruth_database
        from tools.dataset_converters.update_infos_to_v2 import \
            update_pkl_infos
    finally:
        sys.path.remove(tools_root)
    import shutil
    import tempfile

    # mmdet3d's converter takes label_2 files as they are: a box with a
    # size <= 0 or a NaN would reach the training samples
    from ...datasets.pseudo_labels import check_kitti_label_file
    label_dir = osp.join(root, 'training', LABEL_DIR)
    for name in sorted(os.listdir(label_dir)) if osp.isdir(label_dir) \
            else []:
        if name.endswith('.txt'):
            check_kitti_label_file(osp.join(label_dir, name))
    # mmdet3d's v1 -> v2 updater sleeps 5 s when it overwrites its input, so
    # the v1 infos go to a scratch folder outside the root.
    v1_dir = tempfile.mkdtemp(prefix='cmkd_v1_infos_')
    try:
        kitti_converter.create_kitti_info_file(root, prefix, save_path=v1_dir)
        v1 = {
            s: osp.join(v1_dir, f'{prefix}_infos_{s}.pkl')
            for s in ('train', 'val', 'test')
        }
        kitti_converter.create_reduced_point_cloud(
            root,
            prefix,
            train_info_path=v1['train'],
            val_info_path=v1['val'],
            test_info_path=v1['test'])
        paths = {}
        with open(osp.join(root, 'ImageSets', 'test.txt')) as f:
            has_test = bool(f.read().split())
        splits = ['train', 'val', 'trainval'] + ['test'] * has_test
        for split in splits:
            update_pkl_infos(
                'kitti',
                out_dir=root,
                pkl_path=osp.join(v1_dir, f'{prefix}_infos_{split}.pkl'))
            paths[split] = osp.join(root, f'{prefix}_infos_{split}.pkl')
            _fix_ignored_categories(paths[split])
    finally:
        shutil.rmtree(v1_dir, ignore_errors=True)
    if with_gt_database:
        create_groundtruth_database(
            'KittiDataset',
            root,
            prefix,
            paths['train'],
            relative_path=False,
            with_mask=False)
    return paths
