"""The synthetic nuScenes-format world: the devkit loads its tables,
mmdet3d's converter and NuScenesDataset read it, the six cameras and the
LiDAR agree, sweeps show motion, and NuScenesMetric (the devkit's
evaluation) scores the ground truth as perfect and perturbed boxes lower."""
import os.path as osp

import numpy as np
import pytest
from conftest import NUS_WORLD_IMG_SHAPE, SHARED_SAMPLES

from cmkd_mmdet3d.testing.synthetic.surround import (NUS_CAMERAS,
                                                     NUS_CAMERA_MOUNTS,
                                                     SurroundRig)
from cmkd_mmdet3d.utils.safe_pickle import load_pickle_file

SAMPLES = osp.join(SHARED_SAMPLES, 'nuscenes')
IMG_SHAPE = NUS_WORLD_IMG_SHAPE    # the nus_world fixture's (conftest)


def _infos(paths, split):
    return load_pickle_file(paths[split])


def _point_masks(points, boxes):
    """(N, M) mask of points (N, >=3) in LiDAR boxes [x, y, z (centre), l,
    w, h, yaw] (M, 7), by mmdet3d's numpy test (its CUDA op needs a GPU)."""
    from mmdet3d.structures.ops import box_np_ops
    boxes = np.asarray(boxes, np.float64).reshape(-1, 7)
    return box_np_ops.points_in_rbbox(
        np.asarray(points, np.float64)[:, :3], boxes, origin=(0.5, 0.5, 0.5))


def _points_in_boxes(points, boxes):
    """Number of points in each box, (M,)."""
    return _point_masks(points, boxes).sum(0)


def test_devkit_loads_the_tables_and_splits_follow_scene_names(nus_world):
    from nuscenes.nuscenes import NuScenes
    root, paths = nus_world
    nusc = NuScenes(version='v1.0-trainval', dataroot=root, verbose=False)
    assert [s['name'] for s in nusc.scene] == [
        'scene-0001', 'scene-0002', 'scene-0003']
    assert len(nusc.sample) == 9
    # every key frame has the LiDAR and the six cameras, files on disk
    for sample in nusc.sample:
        assert set(sample['data']) == {'LIDAR_TOP', *NUS_CAMERAS}
        for sd_token in sample['data'].values():
            assert osp.isfile(nusc.get_sample_data_path(sd_token))
    # 2 sweeps before each key frame, linked in time order
    lidar = [sd for sd in nusc.sample_data if sd['channel'] == 'LIDAR_TOP']
    assert len(lidar) == 3 * 3 * 3
    first = [sd for sd in lidar if sd['prev'] == '']
    assert len(first) == 3
    chain, sd = [], first[0]
    while True:
        chain.append(sd)
        if not sd['next']:
            break
        sd = nusc.get('sample_data', sd['next'])
    assert [s['is_key_frame'] for s in chain] == [False, False, True] * 3
    # 20 Hz sweeps, 2 Hz key frames: 0.1 s, 0.05 s before each key frame
    assert np.diff([s['timestamp'] for s in chain]).tolist() == [
        50_000, 50_000, 400_000, 50_000, 50_000, 400_000, 50_000, 50_000]
    assert len(_infos(paths, 'train')['data_list']) == 6
    val = _infos(paths, 'val')
    assert len(val['data_list']) == 3
    assert val['metainfo']['version'] == 'v1.0-trainval'


def test_instances_velocities_match_consecutive_annotations(nus_world):
    """The devkit's box_velocity (from the annotation links) is the
    displacement over 0.5 s, and objects move at their band's speed."""
    from nuscenes.nuscenes import NuScenes
    root, _ = nus_world
    nusc = NuScenes(version='v1.0-trainval', dataroot=root, verbose=False)
    speeds = []
    for ann in nusc.sample_annotation:
        if not ann['next']:
            continue
        nxt = nusc.get('sample_annotation', ann['next'])
        dt = (nusc.get('sample', nxt['sample_token'])['timestamp'] -
              nusc.get('sample', ann['sample_token'])['timestamp']) / 1e6
        assert dt == pytest.approx(0.5)
        step = (np.array(nxt['translation']) -
                np.array(ann['translation'])) / dt
        if not ann['prev']:   # one-sided difference: exactly this step
            np.testing.assert_allclose(nusc.box_velocity(ann['token']),
                                       step, atol=1e-6)
        assert step[2] == pytest.approx(0, abs=1e-9)   # on the ground
        speeds.append(np.hypot(*step[:2]))
        # moving attribute <=> moving object
        attrs = [nusc.get('attribute', t)['name']
                 for t in ann['attribute_tokens']]
        if attrs and attrs[0] in ('vehicle.moving', 'pedestrian.moving',
                                  'cycle.with_rider'):
            assert speeds[-1] > 0.5
        elif attrs:
            assert speeds[-1] == pytest.approx(0, abs=1e-9)
    assert max(speeds) > 3.0 and min(speeds) == pytest.approx(0, abs=1e-9)


def test_boxes_project_into_the_cameras_that_see_them(nus_world):
    """Our lidar2cam / cam2img in the infos against mmdet3d's camera
    instances, which its converter derives from the tables' quaternions
    and intrinsics: every box centre that projects into a camera's image
    is one of that camera's instances, at the same pixel; together the six
    cameras see every box with LiDAR points beyond 6 m."""
    _, paths = nus_world
    checked = 0
    for split in ('train', 'val'):
        for info in _infos(paths, split)['data_list']:
            seen = np.zeros(len(info['instances']), bool)
            for cam in NUS_CAMERAS:
                img = info['images'][cam]
                l2c = np.array(img['lidar2cam'])
                k = np.array(img['cam2img'])
                cam_inst = info['cam_instances'].get(cam, [])
                centres = np.array([c['center_2d'] for c in cam_inst]
                                   ).reshape(-1, 2)
                for i, inst in enumerate(info['instances']):
                    xyz = np.array(inst['bbox_3d'][:3])
                    p = l2c[:3, :3] @ xyz + l2c[:3, 3]
                    if p[2] < 1.0:
                        continue
                    uv = (k @ p)[:2] / p[2]
                    if not (0 <= uv[0] < IMG_SHAPE[1]
                            and 0 <= uv[1] < IMG_SHAPE[0]):
                        continue
                    seen[i] = True
                    d = np.linalg.norm(centres - uv, axis=1)
                    assert d.min() < 1e-3, (cam, inst)
                    checked += 1
            # the cameras leave gaps only next to the vehicle
            far = np.array([inst['num_lidar_pts'] > 0
                            and np.hypot(*inst['bbox_3d'][:2]) > 6
                            for inst in info['instances']])
            assert seen[far].all()
    assert checked > 20


def test_lidar_points_lie_on_what_the_cameras_see(nus_world):
    """Key-frame points above the ground beyond 10 m fall inside some
    camera image (the six cover the full turn), and the info's num_lidar_pts
    counts the points inside each box."""
    root, paths = nus_world
    info = _infos(paths, 'val')['data_list'][1]
    pts = np.fromfile(
        osp.join(root, 'samples', 'LIDAR_TOP',
                 info['lidar_points']['lidar_path']),
        np.float32).reshape(-1, 5)
    assert pts[:, 3].max() <= 255 and pts[:, 4].max() <= 15
    # closer than 6 m, low points are below the cameras' view, and up to
    # about 10 m the seams between neighbouring cameras leave slivers, as on
    # the real vehicle
    dist = np.hypot(pts[:, 0], pts[:, 1])
    high = pts[(pts[:, 2] > -1.5) & (dist > 6)]
    far = dist[(pts[:, 2] > -1.5) & (dist > 6)] > 10
    assert len(high) > 50
    inside_any = np.zeros(len(high), bool)
    for cam in NUS_CAMERAS:
        img = info['images'][cam]
        l2c = np.array(img['lidar2cam'])
        p = high[:, :3] @ l2c[:3, :3].T + l2c[:3, 3]
        uv = p @ np.array(img['cam2img']).T
        with np.errstate(divide='ignore', invalid='ignore'):
            uv = uv[:, :2] / p[:, 2:3]
        inside_any |= ((p[:, 2] > 0.1) & (uv[:, 0] >= 0)
                       & (uv[:, 0] < IMG_SHAPE[1]) & (uv[:, 1] >= 0)
                       & (uv[:, 1] < IMG_SHAPE[0]))
    assert inside_any[far].all() and inside_any.mean() > 0.95
    # the converter's num_lidar_pts counts points inside each box (mmdet3d's
    # numpy box test on the info's LiDAR-frame boxes)
    counts = _points_in_boxes(pts, [i['bbox_3d'] for i in info['instances']])
    expected = np.array([i['num_lidar_pts'] for i in info['instances']])
    # float rounding at the faces may move a point in or out
    assert np.abs(counts - expected).max() <= 2
    assert expected.sum() > 20


def test_sweeps_show_motion(nus_world):
    """Sweep points 0.1 s before a key frame, moved into the key frame's
    LiDAR frame with the info's lidar2sensor: on static objects they fall
    inside the key frame's boxes, not where the boxes would be without the
    ego-motion term; points of moving objects sit in the box moved back by
    velocity x time lag: many of them outside the key frame's box, (almost)
    none in the key frame's box outside the moved-back one.

    Surface points lie on the box faces, so the boxes are grown by 0.3 m;
    ground returns (which the grown boxes reach) are left out of the
    counts.
    """
    root, paths = nus_world
    static = np.zeros(2)     # points only in (key box, uncompensated box)
    moving = np.zeros(2)     # points only in (key frame box, moved back)
    for split in ('train', 'val'):
        for info in _infos(paths, split)['data_list']:
            inst = [i for i in info['instances'] if i['num_lidar_pts'] > 3]
            if 'lidar_sweeps' not in info or not inst:
                continue
            box = np.array([i['bbox_3d'] for i in inst])
            ground = (box[:, 2] - box[:, 5] / 2).min()   # the flat road
            box[:, 3:6] += 0.3
            vel = np.nan_to_num(np.array([i['velocity'] for i in inst]))
            sweep = info['lidar_sweeps'][1]
            lag = info['timestamp'] - sweep['timestamp']
            assert lag == pytest.approx(0.1)
            path = osp.join(root, 'sweeps', 'LIDAR_TOP',
                            osp.basename(sweep['lidar_points']['lidar_path']))
            raw = np.fromfile(path, np.float32).reshape(-1, 5)[:, :3]
            to_key = np.linalg.inv(
                np.array(sweep['lidar_points']['lidar2sensor']))
            pts = raw @ to_key[:3, :3].T + to_key[:3, 3]
            back = box.copy()
            back[:, :2] -= vel * lag
            in_key, in_back = (_point_masks(pts, b) for b in (box, back))
            speed = np.hypot(*vel.T)
            above = pts[:, 2] > ground + 0.1
            if np.linalg.norm(to_key[:3, 3]) > 0.3:   # the ego moved
                # where static boxes would be without the ego-motion term
                uncomp = box.copy()
                to_sweep = np.linalg.inv(to_key)
                uncomp[:, :3] = box[:, :3] @ to_sweep[:3, :3].T + \
                    to_sweep[:3, 3]
                in_unc = _point_masks(pts, uncomp)
                still = speed == 0
                static += [(in_key & ~in_unc)[above][:, still].sum(),
                           (in_unc & ~in_key)[above][:, still].sum()]
            fast = speed * lag > 0.3
            moving += [(in_key & ~in_back)[above][:, fast].sum(),
                       (in_back & ~in_key)[above][:, fast].sum()]
    assert static[0] > 50 and static[1] < 0.05 * static[0]
    assert moving[1] > 50 and moving[0] < 0.05 * moving[1]


def test_nuscenes_dataset_reads_the_world(nus_world):
    from mmdet3d.datasets import NuScenesDataset
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    root, paths = nus_world
    classes = tuple(_infos(paths, 'val')['metainfo']['categories'])
    ds = NuScenesDataset(
        data_root=root + '/', ann_file='nuscenes_infos_train.pkl',
        metainfo=dict(classes=classes),     # the class's version
        data_prefix=dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP',
                         **{c: f'samples/{c}' for c in NUS_CAMERAS}),
        modality=dict(use_lidar=True, use_camera=True),
        pipeline=[
            dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5,
                 use_dim=5),
            dict(type='LoadPointsFromMultiSweeps', sweeps_num=9,
                 use_dim=[0, 1, 2, 3, 4]),
            dict(type='LoadMultiViewImageFromFiles', to_float32=True,
                 num_views=6),
            dict(type='LoadAnnotations3D', with_bbox_3d=True,
                 with_label_3d=True, with_attr_label=False),
            dict(type='Pack3DDetInputs',
                 keys=['points', 'img', 'gt_bboxes_3d', 'gt_labels_3d'])
        ], test_mode=False)
    sample = ds[4]   # the second key frame of scene-0553
    assert tuple(sample['inputs']['img'].shape) == (6, 3) + IMG_SHAPE
    # time lags (s) of its 2 sweeps, the first key frame and its 2 sweeps
    times = np.unique(sample['inputs']['points'][:, 4].numpy())
    np.testing.assert_allclose(times, [0.0, 0.05, 0.1, 0.5, 0.55, 0.6],
                               atol=1e-6)
    gt = sample['data_samples'].gt_instances_3d
    info = _infos(paths, 'train')['data_list'][4]
    assert len(gt.labels_3d) == sum(i['num_lidar_pts'] > 0
                                    for i in info['instances']) > 0


def _gt_as_predictions(infos, keep=None, inward=0., vel=(0., 0.)):
    """The val ground truth as predictions: the first ``keep`` fraction of
    each frame's boxes, moved ``inward`` metres towards the LiDAR (so that
    none leaves its class range), with ``vel`` added to the velocity."""
    import torch
    from mmdet3d.structures import LiDARInstance3DBoxes
    results = []
    for info in infos['data_list']:
        inst = [i for i in info['instances'] if i['num_lidar_pts'] > 0]
        if keep is not None:
            inst = inst[:int(len(inst) * keep)]
        b = np.array([i['bbox_3d'] + list(np.nan_to_num(i['velocity']))
                      for i in inst], np.float32).reshape(-1, 9)
        b[:, :2] -= inward * b[:, :2] / np.linalg.norm(
            b[:, :2], axis=1, keepdims=True)
        b[:, 7:9] += vel
        results.append(dict(
            sample_idx=info['sample_idx'], pred_instances_3d=dict(
                bboxes_3d=LiDARInstance3DBoxes(
                    torch.from_numpy(b), box_dim=9, origin=(0.5, 0.5, 0.5)),
                scores_3d=torch.linspace(1, 0.5, len(b)),
                labels_3d=torch.tensor([i['bbox_label_3d'] for i in inst],
                                       dtype=torch.long))))
    return results


def test_devkit_evaluation_ground_truth_and_perturbed(nus_world, tmp_path):
    """NuScenesMetric (the devkit's DetectionEval): the ground truth scores
    AP 1 and zero TP errors for every class it holds; boxes shifted by 1 m
    towards the LiDAR keep AP at the 2 m threshold and lose it at 0.5 m,
    with a translation error of 1 m; half the boxes missing lower AP; a
    velocity offset of (0.3, 0.4) m/s gives a velocity error of 0.5."""
    from mmdet3d.evaluation.metrics import NuScenesMetric
    root, paths = nus_world
    infos = _infos(paths, 'val')
    classes = tuple(infos['metainfo']['categories'])
    present = {classes[i['bbox_label_3d']] for info in infos['data_list']
               for i in info['instances'] if i['num_lidar_pts'] > 0}
    assert len(present) >= 4

    def evaluate(results, name):
        metric = NuScenesMetric(data_root=root, ann_file=paths['val'],
                                jsonfile_prefix=str(tmp_path / name))
        metric.dataset_meta = dict(classes=classes, version='v1.0-trainval')
        out = metric.compute_metrics(results)
        return {k.split('/')[-1]: v for k, v in out.items()}

    gt = evaluate(_gt_as_predictions(infos), 'gt')
    for c in present:
        assert gt[f'{c}_AP_dist_0.5'] == pytest.approx(1.0)
        assert gt[f'{c}_trans_err'] == pytest.approx(0.0, abs=1e-4)
        assert gt[f'{c}_scale_err'] == pytest.approx(0.0, abs=1e-4)
    assert gt['mAP'] == pytest.approx(len(present) / 10, abs=1e-4)
    shifted = evaluate(_gt_as_predictions(infos, inward=1.0), 'shift')
    for c in present:
        assert shifted[f'{c}_AP_dist_0.5'] == pytest.approx(0.0)
        # (greedy matching may pair a box with a close neighbour's truth)
        assert shifted[f'{c}_AP_dist_2.0'] > 0.95
        assert shifted[f'{c}_trans_err'] == pytest.approx(1.0, abs=1e-3)
    assert shifted['mAP'] < gt['mAP'] and shifted['NDS'] < gt['NDS']
    half = evaluate(_gt_as_predictions(infos, keep=0.5), 'half')
    assert half['mAP'] < gt['mAP']
    moving = [c for c in present if c not in ('barrier', 'traffic_cone')]
    vel = evaluate(_gt_as_predictions(infos, vel=(0.3, 0.4)), 'vel')
    for c in moving:
        assert vel[f'{c}_vel_err'] == pytest.approx(0.5, abs=1e-3)
        assert gt[f'{c}_vel_err'] == pytest.approx(0.0, abs=1e-3)
    # no box at all (a student early in training): AP 0 and TP errors 1
    # for every class instead of the devkit's "Invalid box type: None"
    # (cmkd_mmdet3d.compat.nuscenes_empty)
    empty = _gt_as_predictions(infos, keep=0.0)
    assert all(len(r['pred_instances_3d']['scores_3d']) == 0 for r in empty)
    none = evaluate(empty, 'empty')
    assert none['mAP'] == 0 and none['NDS'] == 0
    assert none['mATE'] == 1.0


def test_refusals(tmp_path):
    from cmkd_mmdet3d.testing.synthetic.nuscenes_writer import (
        generate_nuscenes_world, scene_names)
    with pytest.raises(ValueError, match='must not contain "samples"'):
        generate_nuscenes_world(str(tmp_path / 'samples' / 'w'), 3)
    with pytest.raises(ValueError, match='num_val_scenes=3'):
        generate_nuscenes_world(str(tmp_path / 'w'), 3, num_val_scenes=3)
    with pytest.raises(ValueError, match='samples_per_scene'):
        generate_nuscenes_world(str(tmp_path / 'w'), 3, samples_per_scene=1)
    version, train, val = scene_names(9, 2)
    assert version == 'v1.0-trainval' and len(train) == 9
    assert train[0] == 'scene-0001' and val == ['scene-0003', 'scene-0012']
    with pytest.raises(ValueError, match='scene names'):
        scene_names(10, 151)


def test_resume_refuses_other_settings(nus_world):
    from cmkd_mmdet3d.testing.synthetic.nuscenes_writer import \
        generate_nuscenes_world
    root, _ = nus_world
    with pytest.raises(ValueError, match='other settings'):
        generate_nuscenes_world(root, 3, 1, samples_per_scene=3, seed=1,
                                img_shape=IMG_SHAPE, sweeps_per_sample=2,
                                num_beams=16, azimuth_step_deg=0.66)


@pytest.mark.skipif(not osp.isdir(SAMPLES),
                    reason='mmdet3d nuScenes sample frames not present')
def test_rig_is_nuscenes_like():
    """Mounting, yaw and focal length of every camera against the real
    nuScenes frame in mmdet3d's test data (within 0.05 m, 2 degrees and
    1 %), and the LiDAR's axes (x right, y forward)."""
    info = load_pickle_file(osp.join(SAMPLES, 'nus_info.pkl'))
    real = info['data_list'][0]
    rig = SurroundRig()
    for cam in NUS_CAMERAS:
        c2e = np.array(real['images'][cam]['cam2ego'])
        ours = rig.sensor2ego(cam)
        np.testing.assert_allclose(ours[:3, 3], c2e[:3, 3], atol=0.05)
        yaw = np.degrees(np.arctan2(c2e[1, 2], c2e[0, 2]))
        assert NUS_CAMERA_MOUNTS[cam][1] == pytest.approx(yaw, abs=2.0)
        k = np.array(real['images'][cam]['cam2img'])
        assert rig.intrinsics(cam)[0, 0] == pytest.approx(k[0, 0], rel=0.01)
    np.testing.assert_allclose(
        rig.sensor2ego('LIDAR_TOP')[:3, :3],
        np.array(real['lidar_points']['lidar2ego'])[:3, :3], atol=0.03)


def test_create_data_cli(tmp_path, monkeypatch, capsys):
    """``tools/create_data.py synthetic-nuscenes``: its arguments reach the
    generator; a bad scene split exits with the reason."""
    import sys

    from _helpers.tools import load_tool
    tool = load_tool('create_data.py')
    calls = []
    monkeypatch.setattr(
        'cmkd_mmdet3d.testing.synthetic.generate_nuscenes_world',
        lambda *a, **k: calls.append((a, k)) or {'val': 'v.pkl'})
    monkeypatch.setattr(sys, 'argv', [
        'create_data.py', 'synthetic-nuscenes', '--out', str(tmp_path / 'w'),
        '--num-scenes', '4', '--num-val-scenes', '1', '--img-height', '450',
        '--img-width', '800', '--sweeps', '3', '--no-infos'])
    tool.main()
    (args, kwargs), = calls
    assert args == (str(tmp_path / 'w'), 4, 1)
    assert kwargs['img_shape'] == (450, 800)
    assert kwargs['sweeps_per_sample'] == 3 and not kwargs['make_infos']
    assert 'val       infos: v.pkl' in capsys.readouterr().out
    monkeypatch.undo()
    monkeypatch.setattr(sys, 'argv', [
        'create_data.py', 'synthetic-nuscenes', '--out', str(tmp_path / 'x'),
        '--num-scenes', '2', '--num-val-scenes', '2'])
    with pytest.raises(SystemExit, match='num_val_scenes=2 must be in 1'):
        tool.main()
