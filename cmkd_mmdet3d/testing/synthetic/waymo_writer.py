"""The synthetic world with a Waymo-like rig, in mmdet3d 1.4's Waymo layout.

The same generator as the KITTI world (:func:`~.frame.make_frame`: scene,
renderer, ray-cast LiDAR), with :func:`waymo_rig`:

* the front camera of Waymo's vehicle at 1920 x 1280 (any size; the
  intrinsics scale with it), the intrinsics and mount of mmdet3d's Waymo
  sample frame (focal length 2059 px, 2.1 m above the ground);
* a 64-beam top LiDAR (elevation -17.6 to +2.4 degrees) reaching 75 m;
* Waymo's vehicle frame (x forward, y left, z up, origin on the ground
  below the rear axle, here 1.4 m behind the LiDAR); points and boxes are
  stored in it, as mmdet3d stores Waymo's.

Layout under the root (mmdet3d's ``kitti_format`` of Waymo)::

    training/image_0/<sample_idx>.png      front camera (CAM_FRONT)
    training/velodyne/<sample_idx>.bin     float32 x, y, z, intensity,
                                           elongation, 0 (6 features)
    training/label_0/<sample_idx>.txt      the frame's KITTI label lines
    waymo_infos_{train,val}.pkl            mmdet3d 1.4 Waymo infos
    waymo_format/{gt,fov_gt}.bin           val ground truth, Waymo Objects
                                           protos (needs make waymo-env)

``sample_idx`` is mmdet3d's ``{split}{context:03d}{frame:03d}`` (split 0
train, 1 val); ``context_name`` and ``timestamp`` identify a frame in the
``.bin``. mmdet3d's own Waymo converter reads tfrecords through tensorflow,
so the infos are written here directly, in the format of mmdet3d's Waymo
sample infos (``info_version`` ``mmdet3d_v1.4``). Every labelled object is
in the front camera's image (the labels come from it), so ``gt.bin`` and
``fov_gt.bin`` hold the same objects.
"""
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np

from ...utils.atomic_io import atomic_path
from .frame import make_frame
from .geometry import Calibration
from .rig import CameraSpec, LidarSpec, SensorRig
from .surround import points_in_box
from .writer import _atomic_write, _check_manifest, _write_image

WAYMO_IMG_SHAPE = (1280, 1920)    # (H, W)
#: CAM_FRONT of mmdet3d's Waymo sample frame: focal length, principal point
WAYMO_FRONT_INTRINSICS = (2059.0, 935.1, 635.1)
WAYMO_CAMERA_HEIGHT = 2.115       # metres above the ground
#: the top LiDAR in the front camera's frame (x right, y down, z forward)
LIDAR_IN_CAMERA = (0.0, -0.07, -0.11)
#: the top LiDAR in the vehicle frame: origin on the ground
VEHICLE_FROM_LIDAR = (1.43, 0.0, WAYMO_CAMERA_HEIGHT + 0.07)
WAYMO_CLASSES = ('Car', 'Pedestrian', 'Cyclist')
#: label_pb2.Label.Type of each class (Car is Waymo's Vehicle)
WAYMO_TYPE_IDS = {'Car': 1, 'Pedestrian': 2, 'Cyclist': 4}
FRAMES_PER_CONTEXT = 20
FRAME_PERIOD_US = 100_000         # 10 Hz
_T0 = 1_550_000_000_000_000       # µs
WAYMO_GENERATOR_VERSION = 1

WAYMO_TOP_LIDAR = LidarSpec(
    name='Waymo top LiDAR (64 beams)',
    num_beams=64,
    elevation_deg=(-17.6, 2.4),
    azimuth_step_deg=0.14,
    max_range=75.0,
    range_noise=0.02,
    dropout=0.03)


def waymo_calibration(img_shape: Tuple[int, int] = WAYMO_IMG_SHAPE
                      ) -> Calibration:
    """The front camera and top LiDAR as a KITTI calibration (the generator's
    world frame is the camera's): ``P2`` the intrinsics scaled to
    ``img_shape``, ``Tr_velo_to_cam`` the LiDAR *sensor* -> camera."""
    f, cx, cy = WAYMO_FRONT_INTRINSICS
    sy = img_shape[0] / WAYMO_IMG_SHAPE[0]
    sx = img_shape[1] / WAYMO_IMG_SHAPE[1]
    p = np.array([[f * sx, 0, cx * sx, 0], [0, f * sy, cy * sy, 0],
                  [0, 0, 1, 0]], np.float64)
    tr = np.array([[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]], np.float64)
    tr[:, 3] = LIDAR_IN_CAMERA
    return Calibration('waymo', p.copy(), p.copy(), p.copy(), p.copy(),
                       np.eye(3), tr)


def waymo_rig(img_shape: Tuple[int, int] = WAYMO_IMG_SHAPE,
              lidar: LidarSpec = WAYMO_TOP_LIDAR) -> SensorRig:
    """The Waymo-like rig at an image size (the intrinsics scale with it)."""
    img_shape = tuple(int(v) for v in img_shape)
    return SensorRig(
        name=f'waymo_front_{img_shape[0]}x{img_shape[1]}',
        cameras=(CameraSpec('CAM_FRONT', 'P2', img_shape), ),
        lidar=lidar,
        calib_dates=('waymo', ),
        calibration_for_date=lambda date: waymo_calibration(img_shape),
        ground_height=WAYMO_CAMERA_HEIGHT)


def vehicle2cam(calib: Calibration) -> np.ndarray:
    """(4, 4) vehicle frame -> front camera."""
    shift = np.eye(4)
    shift[:3, 3] = -np.asarray(VEHICLE_FROM_LIDAR)
    return calib.lidar2cam @ shift


def sample_index(split: int, index: int) -> int:
    """mmdet3d's Waymo ``sample_idx``: split digit, context, frame."""
    context, frame = divmod(index, FRAMES_PER_CONTEXT)
    return int(f'{split}{context:03d}{frame:03d}')


def context_name(split: int, index: int) -> str:
    return f'synthetic_{("train", "val")[split]}_' \
        f'{index // FRAMES_PER_CONTEXT:04d}'


def _frame_seed(seed: int, split: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, 10 + split,
                                       index]).generate_state(1)[0])


def _frame_job(args):
    root, split, index, seed, img_shape, beams, az_step = args
    name = f'{sample_index(split, index):07d}'
    tr = osp.join(root, 'training')
    label = osp.join(tr, 'label_0', name + '.txt')
    if osp.exists(label):
        return index    # finished by an earlier, interrupted run
    rig = waymo_rig(img_shape, _lidar(beams, az_step))
    calib = rig.calibration_for_date('waymo')
    frame = make_frame(_frame_seed(seed, split, index), calib, img_shape,
                       rig=rig)
    _write_image(osp.join(tr, 'image_0', name + '.png'), frame.image)
    pts = frame.points
    points = np.zeros((len(pts), 6), np.float32)
    points[:, :3] = pts[:, :3] + np.asarray(VEHICLE_FROM_LIDAR)
    points[:, 3] = pts[:, 3]
    _atomic_write(osp.join(tr, 'velodyne', name + '.bin'),
                  lambda p: points.tofile(p))
    _atomic_write(label, lambda p: open(p, 'w').write(
        ''.join(line + '\n' for line in frame.labels)))
    return index


def _lidar(beams: int, az_step: float) -> LidarSpec:
    from dataclasses import replace
    return replace(WAYMO_TOP_LIDAR, num_beams=beams,
                   azimuth_step_deg=az_step)


def _camera_boxes(lines: List[str]) -> List[dict]:
    """KITTI label lines -> class, 2D box, camera box (x, y, z, l, h, w,
    ry; bottom centre); DontCare lines are skipped."""
    out = []
    for line in lines:
        v = line.split()
        if not v or v[0] not in WAYMO_CLASSES:
            continue
        h, w, length = (float(x) for x in v[8:11])
        out.append(dict(cls=v[0], bbox=[float(x) for x in v[4:8]],
                        cam_box=[float(v[11]), float(v[12]), float(v[13]),
                                 length, h, w, float(v[14])]))
    return out


def frame_info(root: str, split: int, index: int,
               img_shape: Tuple[int, int]) -> dict:
    """One frame's mmdet3d 1.4 Waymo info (paths relative to the data
    prefixes ``training/velodyne`` and ``training/image_0``)."""
    from mmdet3d.structures import Box3DMode, CameraInstance3DBoxes
    idx = sample_index(split, index)
    name = f'{idx:07d}'
    calib = waymo_calibration(img_shape)
    v2c = vehicle2cam(calib)
    cam2img = calib.cam2img
    with open(osp.join(root, 'training', 'label_0', name + '.txt')) as f:
        labels = _camera_boxes(f.read().splitlines())
    points = np.fromfile(osp.join(root, 'training', 'velodyne',
                                  name + '.bin'), np.float32).reshape(-1, 6)
    instances, cam_instances = [], []
    if labels:
        cam = CameraInstance3DBoxes(
            np.array([b['cam_box'] for b in labels], np.float32))
        lidar = cam.convert_to(Box3DMode.LIDAR, np.linalg.inv(v2c))
        lidar_np = lidar.tensor.numpy().astype(np.float64)
        centres = cam.gravity_center.numpy().astype(np.float64)
        for b, box, centre in zip(labels, lidar_np, centres):
            label = WAYMO_CLASSES.index(b['cls'])
            mid = box[:3] + np.array([0, 0, box[5] / 2])
            n = int(points_in_box(points[:, :3].astype(np.float64), mid,
                                  np.array([box[4], box[3], box[5]]),
                                  box[6]).sum())
            instances.append(dict(
                bbox=b['bbox'], bbox_label=label,
                bbox_3d=[float(x) for x in box], bbox_label_3d=label,
                num_lidar_pts=n, camera_id=0, group_id=len(instances),
                difficulty=0))
            uvz = cam2img[:3, :3] @ centre
            cam_instances.append(dict(
                bbox=b['bbox'], bbox_label=label, bbox_3d=b['cam_box'],
                bbox_3d_isvalid=True, bbox_label_3d=label,
                center_2d=[float(uvz[0] / uvz[2]), float(uvz[1] / uvz[2])],
                depth=float(uvz[2]), velocity=-1))
    ego2global = np.eye(4)
    ego2global[0, 3] = 10.0 * index    # the ego drives along x
    return dict(
        sample_idx=idx,
        context_name=context_name(split, index),
        timestamp=_T0 + (split * 1_000_000 + index) * FRAME_PERIOD_US,
        ego2global=ego2global.tolist(),
        images=dict(CAM_FRONT=dict(
            img_path=name + '.png', height=int(img_shape[0]),
            width=int(img_shape[1]), cam2img=cam2img.tolist(),
            lidar2cam=v2c.tolist(), lidar2img=(cam2img @ v2c).tolist())),
        lidar_points=dict(lidar_path=name + '.bin', num_pts_feats=6),
        instances=instances,
        cam_sync_instances=[dict(i) for i in instances],
        cam_instances=dict(CAM_FRONT=cam_instances))


def waymo_gt_arrays(infos: List[dict]) -> Dict[str, np.ndarray]:
    """The ground truth of infos as the arrays of a Waymo ``Objects``
    ``.bin`` (Waymo boxes, centre at half height)."""
    from ...evaluation.waymo_metric import lidar_boxes_to_waymo
    rows = [(info, inst) for info in infos for inst in info['instances']]
    box = lidar_boxes_to_waymo(np.array(
        [inst['bbox_3d'] for _, inst in rows], np.float64).reshape(-1, 7))
    return dict(
        box=box,
        type=np.array([WAYMO_TYPE_IDS[WAYMO_CLASSES[inst['bbox_label_3d']]]
                       for _, inst in rows], np.uint8),
        context=np.array([info['context_name'] for info, _ in rows],
                         dtype=str).reshape(-1),
        timestamp=np.array([info['timestamp'] for info, _ in rows],
                           np.int64),
        difficulty=np.zeros(len(rows), np.uint8),
        num_points=np.array([inst['num_lidar_pts'] for _, inst in rows],
                            np.int64))


def write_waymo_gt_bin(infos: List[dict], path: str,
                       python: Optional[str] = None) -> str:
    """Write the infos' ground truth as a Waymo ``Objects`` ``.bin``
    (atomically) through the Waymo environment's worker."""
    from ...evaluation.waymo_metric import (find_waymo_python,
                                            write_objects_bin)
    return write_objects_bin(waymo_gt_arrays(infos), path,
                             find_waymo_python(python))


def generate_waymo_world(out_dir: str,
                         num_train: int,
                         num_val: int,
                         seed: int = 0,
                         img_shape: Tuple[int, int] = WAYMO_IMG_SHAPE,
                         num_beams: int = WAYMO_TOP_LIDAR.num_beams,
                         azimuth_step_deg: float = WAYMO_TOP_LIDAR.
                         azimuth_step_deg,
                         workers: int = 1,
                         make_infos: bool = True,
                         gt_bin: Optional[bool] = None,
                         waymo_python: Optional[str] = None
                         ) -> Dict[str, str]:
    """Write a synthetic Waymo-format world to ``out_dir`` (resumable).

    Args:
        out_dir: The root (``data_root`` of the configs).
        num_train, num_val: Frames per split.
        seed: The world's seed; a frame is a pure function of it, its split
            and its index.
        img_shape: Front camera image (H, W).
        num_beams, azimuth_step_deg: The top LiDAR's resolution.
        workers: Processes for the frames.
        make_infos: Also write ``waymo_infos_{train,val}.pkl``.
        gt_bin: Write ``waymo_format/{gt,fov_gt}.bin`` for the val split.
            None: when the Waymo environment exists (else say how to add
            them later); True: required; False: never.
        waymo_python: The Waymo environment's python.

    Returns:
        dict: name -> path of the files written (``train``, ``val``,
        ``gt_bin``, ``fov_gt_bin``).
    """
    import mmengine
    from mmengine.utils import track_parallel_progress, track_progress
    img_shape = tuple(int(v) for v in img_shape)
    _check_manifest(out_dir, dict(
        seed=seed, img_shape=list(img_shape), num_beams=num_beams,
        azimuth_step_deg=azimuth_step_deg, rig='waymo_front',
        generator=WAYMO_GENERATOR_VERSION))
    for sub in ('image_0', 'velodyne', 'label_0'):
        os.makedirs(osp.join(out_dir, 'training', sub), exist_ok=True)
    splits = dict(train=(0, num_train), val=(1, num_val))
    tasks = [(out_dir, s, i, seed, img_shape, num_beams, azimuth_step_deg)
             for s, n in splits.values() for i in range(n)]
    print(f'generating {len(tasks)} Waymo-rig frames', flush=True)
    if workers > 1:
        track_parallel_progress(_frame_job, tasks, workers, file=sys.stdout)
    else:
        track_progress(_frame_job, tasks, file=sys.stdout)
    paths = {}
    if not make_infos:
        return paths
    infos = {}
    for name, (s, n) in splits.items():
        infos[name] = [frame_info(out_dir, s, i, img_shape)
                       for i in range(n)]
        paths[name] = osp.join(out_dir, f'waymo_infos_{name}.pkl')
        with atomic_path(paths[name]) as tmp:
            mmengine.dump(dict(
                metainfo=dict(dataset='waymo', info_version='mmdet3d_v1.4',
                              version='waymo_v1.4',
                              categories={c: i for i, c in
                                          enumerate(WAYMO_CLASSES)}),
                data_list=infos[name]), tmp, file_format='pkl')
    if gt_bin is False:
        return paths
    from ...evaluation.waymo_metric import find_waymo_python
    try:
        python = find_waymo_python(waymo_python)
    except FileNotFoundError:
        if gt_bin:
            raise
        print('no Waymo environment: waymo_format/{gt,fov_gt}.bin not '
              'written (run `make waymo-env`, then this command again)',
              flush=True)
        return paths
    for key in ('gt', 'fov_gt'):
        paths[f'{key}_bin'] = write_waymo_gt_bin(
            infos['val'], osp.join(out_dir, 'waymo_format', f'{key}.bin'),
            python)
    return paths
