"""The synthetic world in the nuScenes layout: six cameras and a 32-beam
LiDAR with its intermediate sweeps, the ``v1.0-*`` database tables that
``nuscenes-devkit`` loads, and mmdet3d 1.4's v2 info files made by mmdet3d's
own nuScenes converter.

Each scene is one :class:`~.surround.MovingScene`: the ego drives along the
road at a constant speed, its neighbours move at theirs, and the LiDAR
sweeps it at 20 Hz (``sweeps_per_sample`` intermediate sweeps before every
2 Hz key frame), so accumulated sweeps show real motion and the devkit's
``box_velocity`` (from consecutive annotations of an instance) gives the
objects' velocities. The tables are ``v1.0-trainval``, the version that
mmdet3d's ``NuScenesDataset`` and its configs assume, and scene names are
the first of nuScenes' train / val split names, because the devkit and
mmdet3d's converter assign scenes to splits by name.

Layout under the root (as nuScenes): ``samples/<CAM>/*.jpg``,
``samples/LIDAR_TOP/*.pcd.bin`` (float32 x, y, z, intensity 0-255, ring),
``sweeps/LIDAR_TOP/*.pcd.bin``, ``maps/*.png``, ``<version>/*.json`` (the
13 tables) and ``nuscenes_infos_{train,val}.pkl``.
"""
import hashlib
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .lidar import cast_lidar
from .render import render_scene, solid_masks_area
from .surround import (NUS_CAMERAS, NUS_CLASSES, NUS_IMG_SHAPE, SurroundRig,
                       camera_of, default_origin,
                       matrix_quaternion, points_in_box, ring_index,
                       sample_moving_scene, scene_at, solid_global_box,
                       visibility_token, world_from_global, yaw_quaternion)
from .writer import _atomic_write, _check_manifest, _mmdet3d_tools_path

#: nuScenes' timing: key frames at 2 Hz, LiDAR sweeps at 20 Hz.
KEYFRAME_PERIOD = 0.5
SWEEP_PERIOD = 0.05
#: Objects within this distance (m, in the ground plane) of the ego are
#: annotated in a key frame.
ANNOTATION_RANGE = 60.0
ATTRIBUTES = ('vehicle.moving', 'vehicle.parked', 'vehicle.stopped',
              'cycle.with_rider', 'cycle.without_rider',
              'pedestrian.moving', 'pedestrian.standing',
              'pedestrian.sitting_lying_down')
VISIBILITY = (('1', 'v0-40'), ('2', 'v40-60'), ('3', 'v60-80'),
              ('4', 'v80-100'))
#: Bumped whenever a change of the generator changes its scenes.
NUS_GENERATOR_VERSION = 1
_T0 = 1_533_000_000_000_000   # µs, the first scene's start


def token(*parts) -> str:
    """A deterministic 32-hex token (nuScenes' token format)."""
    return hashlib.md5('/'.join(map(str, parts)).encode()).hexdigest()


def scene_names(num_train: int,
                num_val: int) -> Tuple[str, List[str], List[str]]:
    """(version, train names, val names): ``v1.0-trainval`` and the first
    names of nuScenes' train / val splits. (Not ``v1.0-mini`` for small
    worlds: mmdet3d's ``NuScenesDataset`` fixes ``v1.0-trainval`` in its
    class metainfo, which the info file cannot override, so a mini world
    would need a config change to be evaluated.)

    Raises:
        ValueError: more scenes than nuScenes' splits hold.
    """
    from nuscenes.utils import splits
    if num_train > len(splits.train) or num_val > len(splits.val):
        raise ValueError(
            f'{num_train} train / {num_val} val scenes: nuScenes has '
            f'{len(splits.train)} / {len(splits.val)} scene names')
    return ('v1.0-trainval', list(splits.train[:num_train]),
            list(splits.val[:num_val]))


def scene_seed(seed: int, index: int) -> int:
    """Seed of one scene: independent of how many scenes are generated."""
    return int(np.random.SeedSequence([seed, 4, index]).generate_state(1)[0])


def _log_name(index: int) -> str:
    return f'n000-2018-08-01-00-00-{index % 60:02d}+0000'


def _write_points(path: str, points: np.ndarray, lidar) -> None:
    """nuScenes' .pcd.bin: float32 x, y, z, intensity (0-255), ring."""
    out = np.concatenate([points[:, :3], points[:, 3:4] * 255.0,
                          ring_index(points, lidar)[:, None]], 1)
    _atomic_write(path, lambda p: out.astype(np.float32).tofile(p))


def _write_jpg(path: str, image: np.ndarray) -> None:
    _atomic_write(path, lambda p: cv2.imwrite(
        p, image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92]))


def _timeline(num_samples: int, sweeps: int) -> List[Tuple[float, int]]:
    """(time in s, key frame index or -1) of every LiDAR sweep in time
    order: ``sweeps`` intermediate sweeps before every key frame."""
    out = []
    for k in range(num_samples):
        t_key = k * KEYFRAME_PERIOD
        out += [(t_key - j * SWEEP_PERIOD, -1) for j in range(sweeps, 0, -1)]
        out.append((t_key, k))
    return out


def _scene_job(args) -> dict:
    """Write one scene's files and return its records (JSON-able): the
    sensor frames (time, file, ego pose, key frame) and, per key frame,
    the annotations of the objects in range."""
    root, index, name, seed, num_samples, sweeps, img_shape, lidar = args
    done = osp.join(root, '.synthetic', f'{name}.json')
    if osp.exists(done):   # finished by an earlier, interrupted run
        with open(done) as f:
            return json.load(f)
    rng = np.random.default_rng(scene_seed(seed, index))
    origin = default_origin(index)
    duration = (num_samples - 1) * KEYFRAME_PERIOD
    moving = sample_moving_scene(rng, duration, origin_xy=origin)
    rig = SurroundRig(tuple(img_shape), lidar)
    global_from_world = np.linalg.inv(world_from_global(origin))
    log = _log_name(index)
    t0 = _T0 + index * 100_000_000
    frames, samples = [], []
    for step, (t, key) in enumerate(_timeline(num_samples, sweeps)):
        ts = int(round(t0 + t * 1e6))
        ego2global = moving.ego2global(t)
        calib = rig.calibration(ego2global, origin)
        scene = scene_at(moving, t)
        points = cast_lidar(scene, calib, np.random.default_rng(
            scene_seed(seed, index) + step + 1), lidar)
        folder = 'samples' if key >= 0 else 'sweeps'
        rel = f'{folder}/LIDAR_TOP/{log}__LIDAR_TOP__{ts}.pcd.bin'
        os.makedirs(osp.join(root, folder, 'LIDAR_TOP'), exist_ok=True)
        _write_points(osp.join(root, rel), points, lidar)
        frames.append(dict(channel='LIDAR_TOP', timestamp=ts, key=key,
                           filename=rel, ego2global=ego2global.tolist()))
        if key < 0:
            continue
        visible, full = {}, {}
        for cam in NUS_CAMERAS:
            camera = camera_of(cam, rig)
            image, ids = render_scene(scene, calib, rig.img_shape,
                                      seed=scene_seed(seed, index) + step,
                                      camera=camera)
            seen = np.bincount(ids[ids >= 0].ravel(),
                               minlength=len(scene.solids))
            owners = np.flatnonzero(seen)
            area = solid_masks_area(scene, calib, rig.img_shape, camera,
                                    only=owners)
            for i in owners:
                visible[int(i)] = visible.get(int(i), 0) + int(seen[i])
                full[int(i)] = full.get(int(i), 0) + int(area[i])
            rel_img = f'samples/{cam}/{log}__{cam}__{ts}.jpg'
            os.makedirs(osp.join(root, 'samples', cam), exist_ok=True)
            _write_jpg(osp.join(root, rel_img), image)
            frames.append(dict(channel=cam, timestamp=ts, key=key,
                               filename=rel_img,
                               ego2global=ego2global.tolist()))
        # annotations: labelled solids in range, LiDAR points of this key
        # frame inside their box
        lidar2global = global_from_world @ calib.lidar2cam
        pts_global = points[:, :3] @ lidar2global[:3, :3].T + \
            lidar2global[:3, 3]
        ego_xy = ego2global[:2, 3]
        anns = []
        for i, solid in enumerate(scene.solids):
            if solid.cls is None:
                continue
            centre, size, yaw = solid_global_box(solid, global_from_world)
            if np.hypot(*(centre[:2] - ego_xy)) > ANNOTATION_RANGE:
                continue
            frac = visible.get(i, 0) / max(full.get(i, 0), 1)
            anns.append(dict(
                instance=i, cls=solid.cls, attribute=moving.attributes[i],
                translation=centre.tolist(), size=size.tolist(),
                rotation=yaw_quaternion(yaw),
                num_lidar_pts=int(points_in_box(pts_global, centre, size,
                                                yaw).sum()),
                visibility=visibility_token(frac)))
        samples.append(dict(timestamp=ts, annotations=anns))
    record = dict(name=name, index=index, log=log, origin=list(origin),
                  ego_speed=moving.ego_speed, frames=frames,
                  samples=samples, img_shape=list(rig.img_shape))
    os.makedirs(osp.dirname(done), exist_ok=True)
    _atomic_write(done, lambda p: open(p, 'w').write(json.dumps(record)))
    return record


def build_tables(records: List[dict], rig: SurroundRig) -> Dict[str, list]:
    """The 13 nuScenes tables of the scenes' records."""
    cats = {c: token('category', c) for c in NUS_CLASSES}
    attrs = {a: token('attribute', a) for a in ATTRIBUTES}
    channels = ('LIDAR_TOP', ) + NUS_CAMERAS
    sensors = {c: token('sensor', c) for c in channels}
    tables = {k: [] for k in (
        'category', 'attribute', 'visibility', 'instance', 'sensor',
        'calibrated_sensor', 'ego_pose', 'log', 'scene', 'sample',
        'sample_data', 'sample_annotation', 'map')}
    tables['category'] = [
        dict(token=cats[c], name=NUS_CLASSES[c][0],
             description=f'synthetic {c}') for c in NUS_CLASSES]
    tables['attribute'] = [dict(token=attrs[a], name=a, description=a)
                           for a in ATTRIBUTES]
    tables['visibility'] = [
        dict(token=t, level=lvl,
             description=f'visibility of whole object is {lvl[1:]} %')
        for t, lvl in VISIBILITY]
    tables['sensor'] = [
        dict(token=sensors[c], channel=c,
             modality='lidar' if c == 'LIDAR_TOP' else 'camera')
        for c in channels]
    for rec in records:
        name = rec['name']
        scale_rig = SurroundRig(tuple(rec['img_shape']), rig.lidar)
        log_tok = token('log', name)
        tables['log'].append(dict(
            token=log_tok, logfile=rec['log'], vehicle='n000',
            date_captured='2018-08-01', location='synthetic'))
        calib = {}
        for c in channels:
            s2e = scale_rig.sensor2ego(c)
            calib[c] = token('calibrated_sensor', name, c)
            tables['calibrated_sensor'].append(dict(
                token=calib[c], sensor_token=sensors[c],
                translation=s2e[:3, 3].tolist(),
                rotation=matrix_quaternion(s2e[:3, :3]),
                camera_intrinsic=[] if c == 'LIDAR_TOP' else
                scale_rig.intrinsics(c).tolist()))
        sample_toks = [token('sample', name, k)
                       for k in range(len(rec['samples']))]
        scene_tok = token('scene', name)
        tables['scene'].append(dict(
            token=scene_tok, log_token=log_tok,
            nbr_samples=len(sample_toks), first_sample_token=sample_toks[0],
            last_sample_token=sample_toks[-1], name=name,
            description=f'synthetic scene, ego at {rec["ego_speed"]:.1f} '
            'm/s'))
        for k, (tok, smp) in enumerate(zip(sample_toks, rec['samples'])):
            tables['sample'].append(dict(
                token=tok, timestamp=smp['timestamp'], scene_token=scene_tok,
                prev=sample_toks[k - 1] if k else '',
                next=sample_toks[k + 1] if k + 1 < len(sample_toks) else ''))
        # sample_data: a doubly linked list per channel, in time order
        per_channel = {}
        for j, fr in enumerate(rec['frames']):
            per_channel.setdefault(fr['channel'], []).append((j, fr))
        for c, lst in per_channel.items():
            toks = [token('sample_data', name, j) for j, _ in lst]
            for n, (j, fr) in enumerate(lst):
                pose_tok = token('ego_pose', name, j)
                e2g = np.array(fr['ego2global'])
                tables['ego_pose'].append(dict(
                    token=pose_tok, timestamp=fr['timestamp'],
                    rotation=matrix_quaternion(e2g[:3, :3]),
                    translation=e2g[:3, 3].tolist()))
                # a sweep belongs to the next key frame's sample, as in
                # nuScenes
                key = fr['key'] if fr['key'] >= 0 else min(
                    len(sample_toks) - 1,
                    next(f['key'] for f in rec['frames'][j:]
                         if f['key'] >= 0))
                h, w = (0, 0) if c == 'LIDAR_TOP' else rec['img_shape']
                tables['sample_data'].append(dict(
                    token=toks[n], sample_token=sample_toks[key],
                    ego_pose_token=pose_tok, calibrated_sensor_token=calib[c],
                    timestamp=fr['timestamp'],
                    fileformat='pcd' if c == 'LIDAR_TOP' else 'jpg',
                    is_key_frame=fr['key'] >= 0, height=h, width=w,
                    filename=fr['filename'],
                    prev=toks[n - 1] if n else '',
                    next=toks[n + 1] if n + 1 < len(toks) else ''))
        # instances and their annotations, linked over key frames
        per_instance = {}
        for k, smp in enumerate(rec['samples']):
            for ann in smp['annotations']:
                per_instance.setdefault(ann['instance'], []).append((k, ann))
        for inst, lst in sorted(per_instance.items()):
            inst_tok = token('instance', name, inst)
            toks = [token('sample_annotation', name, inst, k)
                    for k, _ in lst]
            tables['instance'].append(dict(
                token=inst_tok, category_token=cats[lst[0][1]['cls']],
                nbr_annotations=len(lst), first_annotation_token=toks[0],
                last_annotation_token=toks[-1]))
            for n, (k, ann) in enumerate(lst):
                tables['sample_annotation'].append(dict(
                    token=toks[n], sample_token=sample_toks[k],
                    instance_token=inst_tok,
                    visibility_token=ann['visibility'],
                    attribute_tokens=[attrs[ann['attribute']]]
                    if ann['attribute'] else [],
                    translation=ann['translation'], size=ann['size'],
                    rotation=ann['rotation'], prev=toks[n - 1] if n else '',
                    next=toks[n + 1] if n + 1 < len(toks) else '',
                    num_lidar_pts=ann['num_lidar_pts'], num_radar_pts=0))
    tables['map'] = [dict(
        token=token('map', 'synthetic'), category='semantic_prior',
        filename='maps/synthetic.png',
        log_tokens=[r['token'] for r in tables['log']])]
    return tables


def write_tables(root: str, version: str, tables: Dict[str, list]) -> None:
    """The tables as ``<root>/<version>/<table>.json`` and the map mask the
    devkit asserts exists."""
    os.makedirs(osp.join(root, version), exist_ok=True)
    for name, rows in tables.items():
        _atomic_write(osp.join(root, version, f'{name}.json'),
                      lambda p, rows=rows: open(p, 'w').write(
                          json.dumps(rows, indent=0)))
    os.makedirs(osp.join(root, 'maps'), exist_ok=True)
    _atomic_write(osp.join(root, 'maps', 'synthetic.png'),
                  lambda p: cv2.imwrite(p, np.zeros((8, 8), np.uint8)))


def _load_converter(name: str):
    """A module of mmdet3d's ``tools/dataset_converters`` by path (the
    folder is no package, and this project has a ``tools`` folder too)."""
    import importlib.util
    path = osp.join(_mmdet3d_tools_path(), 'tools', 'dataset_converters',
                    f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_mmdet3d_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def create_nuscenes_infos(root: str, version: str, prefix: str = 'nuscenes',
                          max_sweeps: int = 10) -> Dict[str, str]:
    """mmdet3d 1.4's nuScenes infos (v1, then updated to v2), through its
    own converters.

    mmdet3d's v1 -> v2 updater opens the database at the hard-coded
    ``./data/nuscenes``; it is handed ``root`` instead.

    Returns:
        dict: Split name -> info file path.
    """
    from mmdet3d.utils import register_all_modules
    from nuscenes.nuscenes import NuScenes
    register_all_modules(init_default_scope=True)
    root = osp.abspath(root)
    converter = _load_converter('nuscenes_converter')
    updater = _load_converter('update_infos_to_v2')
    converter.create_nuscenes_infos(root, prefix, version=version,
                                    max_sweeps=max_sweeps)
    nusc = NuScenes(version=version, dataroot=root, verbose=False)
    updater.NuScenes = lambda **kwargs: nusc
    import shutil
    import tempfile
    paths = {}
    tmp_dir = tempfile.mkdtemp(prefix='cmkd_nus_v1_')
    try:
        for split in ('train', 'val'):
            # the updater writes <out_dir>/<the v1 file's name> (and sleeps
            # 5 s when out_dir is part of the v1 path): the v1 file moves
            # out of the root first
            paths[split] = osp.join(root, f'{prefix}_infos_{split}.pkl')
            v1 = osp.join(tmp_dir, osp.basename(paths[split]))
            shutil.move(paths[split], v1)
            updater.update_nuscenes_infos(pkl_path=v1, out_dir=root)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return paths


def generate_nuscenes_world(out_dir: str,
                            num_scenes: int,
                            num_val_scenes: int = 2,
                            samples_per_scene: int = 10,
                            seed: int = 0,
                            img_shape: Tuple[int, int] = NUS_IMG_SHAPE,
                            sweeps_per_sample: int = 9,
                            num_beams: Optional[int] = None,
                            azimuth_step_deg: Optional[float] = None,
                            workers: int = 1,
                            make_infos: bool = True) -> Dict[str, str]:
    """Write a synthetic nuScenes-format world to ``out_dir``.

    Args:
        out_dir: The root (it must not contain 'samples': mmdet3d tells key
            frames from sweeps by that word in a path).
        num_scenes: Scenes in all; the last ``num_val_scenes`` are val.
        num_val_scenes: Val scenes.
        samples_per_scene: Key frames per scene (2 Hz).
        seed: World seed.
        img_shape: (H, W) of the six camera images (the intrinsics scale
            with it).
        sweeps_per_sample: Intermediate LiDAR sweeps (20 Hz) before each
            key frame (nuScenes: 9, so 10-sweep accumulation).
        num_beams / azimuth_step_deg: Override the 32-beam LiDAR.
        workers: Parallel scene jobs.
        make_infos: Also write mmdet3d's v2 infos.

    Resumable: finished scenes of an interrupted run are kept. Returns the
    info file paths.
    """
    from dataclasses import replace
    from mmengine.utils import track_parallel_progress, track_progress
    if 'samples' in osp.abspath(out_dir):
        raise ValueError(
            f'{out_dir}: the root path must not contain "samples" '
            '(mmdet3d tells key frames from sweeps by that word)')
    if not 0 < num_val_scenes < num_scenes:
        raise ValueError(f'num_val_scenes={num_val_scenes} must be in 1 .. '
                         f'num_scenes - 1 = {num_scenes - 1}')
    if samples_per_scene < 2:
        raise ValueError('samples_per_scene must be >= 2 (velocities come '
                         'from consecutive key frames)')
    version, train, val = scene_names(num_scenes - num_val_scenes,
                                      num_val_scenes)
    rig = SurroundRig(tuple(img_shape))
    lidar = rig.lidar
    if num_beams is not None:
        lidar = replace(lidar, num_beams=num_beams)
    if azimuth_step_deg is not None:
        lidar = replace(lidar, azimuth_step_deg=azimuth_step_deg)
    rig = SurroundRig(tuple(img_shape), lidar)
    _check_manifest(out_dir, dict(
        seed=seed, img_shape=list(img_shape), num_beams=lidar.num_beams,
        azimuth_step_deg=lidar.azimuth_step_deg,
        samples_per_scene=samples_per_scene,
        sweeps_per_sample=sweeps_per_sample, rig='nuscenes',
        generator=NUS_GENERATOR_VERSION))
    names = train + val
    tasks = [(out_dir, i, n, seed, samples_per_scene, sweeps_per_sample,
              tuple(img_shape), lidar) for i, n in enumerate(names)]
    print(f'generating {len(names)} scenes x {samples_per_scene} samples '
          f'({version})', flush=True)
    if workers > 1:
        records = track_parallel_progress(_scene_job, tasks, workers,
                                          file=sys.stdout)
    else:
        records = track_progress(_scene_job, tasks, file=sys.stdout)
    write_tables(out_dir, version, build_tables(records, rig))
    return create_nuscenes_infos(out_dir, version) if make_infos else {}
