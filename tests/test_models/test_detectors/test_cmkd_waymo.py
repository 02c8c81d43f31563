"""CMKD on Waymo: the real-Waymo configs take a distillation step on
mmdet3d's Waymo sample frame, and the synthetic-Waymo configs train and
evaluate (WaymoAPMetric) on a small synthetic Waymo world."""
import copy
import os.path as osp

import mmengine
import pytest
import torch
from mmengine.config import Config

from _helpers.waymo import WAYMO_PYTHON, needs_waymo
from conftest import REPO_ROOT


SYN = {
    'teacher': 'teachers/pointpillars/pointpillars_pillar04_secfpn_1xb4-'
    'cyclic-12e_synwaymo-3d-3class.py',
    'student': 'cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-'
    'onecycle-8e_synwaymo-3d-3class.py',
    'stage1': 'cmkd/cmkd_bev_pointpillars-pillar04_r18-aspp-lid40_1xb2-'
    'onecycle-4e_synwaymo-3d-3class.py',
    'stage2': 'cmkd/cmkd_bev-resp_pointpillars-pillar04_r18-aspp-lid40_'
    '1xb2-onecycle-4e_synwaymo-3d-3class.py',
}


def _registry():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    return MODELS


def _batch(dataset_cfg, root, ann_file, pipeline=None):
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    ds_cfg = copy.deepcopy(dataset_cfg)
    while ds_cfg.get('type') == 'RepeatDataset':
        ds_cfg = ds_cfg['dataset']
    # the sample's one car is behind the camera: keep the frame without it
    ds_cfg.update(data_root=root.rstrip('/') + '/', ann_file=ann_file,
                  load_interval=1, filter_empty_gt=False)
    if pipeline is not None:
        ds_cfg['pipeline'] = pipeline
    ds = DATASETS.build(ds_cfg)
    return pseudo_collate([ds[0]])


@pytest.mark.parametrize('teacher', ['pointpillars', 'second'])
def test_real_waymo_cmkd_takes_a_step_on_the_waymo_sample(tmp_path, teacher):
    """The R50 student (front camera at 1/8 scale for CPU, no download) and
    each Waymo teacher (the 0.2 m PointPillars with its stride-2 stem; the
    0.05 x 0.05 x 0.15 m SECOND) on mmdet3d's real Waymo frame: 128 x 128
    BEV maps of 128 channels that coincide, the calibration of the real
    front camera, finite BEV, response and depth losses, gradients for the
    student only."""
    from _helpers.models import WAYMO_CMKD, WAYMO_CMKD_SECOND, waymo_sample
    from cmkd_mmdet3d.models.detectors.teacher_utils import \
        build_frozen_teacher
    root = waymo_sample(tmp_path)
    if root is None:
        pytest.skip('mmdet3d sample data not present')
    MODELS = _registry()
    cfg = Config.fromfile(WAYMO_CMKD if teacher == 'pointpillars' else
                          WAYMO_CMKD_SECOND)
    cfg.model.student.img_backbone.backbone.init_cfg = None
    torch.manual_seed(0)
    teacher = build_frozen_teacher(cfg.model.teacher)
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg.model.teacher_ckpt = ckpt
    cfg.model.init_bev_from_teacher = False     # no stage-1 checkpoint here
    model = MODELS.build(cfg.model)
    assert model.student.bev_grid.shape == (128, 128, 128)
    model.init_weights()
    model.train()
    pipeline = copy.deepcopy(cfg.distill_train_pipeline)
    for t in pipeline:
        if t['type'] == 'ScaleImage3D':
            t['scale'] = 0.125              # 240 x 160
        if t['type'] == 'ImageSpaceFlip3D':
            # the sample's front-camera view holds 55 points, most above the
            # range's 4 m top; mirrored in the (pitched) camera frame they
            # all rise above it, and sparse convolution cannot take an
            # empty frame: no random flip here
            t['flip_ratio'] = 0.0
    batch = _batch(cfg.train_dataloader.dataset, root,
                   'waymo_infos_val.pkl', pipeline)
    assert batch['inputs']['img'][0].shape == (3, 160, 240)
    assert batch['inputs']['points'][0].shape[1] == 5
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert {'distill.loss_bev', 'student.loss_depth',
            'distill.loss_resp_cls'} <= set(losses)
    total = sum(v for v in losses.values() if v.requires_grad)
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None
               for p in model.student.lift_neck.parameters())
    assert any(p.grad is not None
               for p in model.student.img_backbone.parameters())


@pytest.fixture(scope='module')
def waymo_world(tmp_path_factory):
    from cmkd_mmdet3d.testing.synthetic import generate_waymo_world
    root = str(tmp_path_factory.mktemp('synwaymo') / 'world')
    generate_waymo_world(root, num_train=2, num_val=2, seed=3,
                         img_shape=(128, 192), num_beams=32,
                         azimuth_step_deg=0.4,
                         gt_bin=None if WAYMO_PYTHON else False,
                         waymo_python=WAYMO_PYTHON)
    return root


def _runner_cfg(rel, root, work_dir, **extra):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', rel))
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if not loader:
            continue
        loader.num_workers = 0
        loader.persistent_workers = False
        ds = loader.dataset
        while ds.get('type') == 'RepeatDataset':
            ds = ds.dataset
        ds.data_root = root + '/'
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key):
            cfg[key].waymo_bin_file = osp.join(root, 'waymo_format',
                                               'fov_gt.bin')
            cfg[key].waymo_python = WAYMO_PYTHON
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.merge_from_dict(extra)
    return cfg


def _run(cfg):
    """Train; the last validation's metrics (as the logger records them)."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    return {k[len('val/'):]: v.current() for k, v in scalars.items()
            if k.startswith('val/')}


@needs_waymo
def test_synthetic_waymo_teacher_student_and_cmkd_train_and_evaluate(
        waymo_world, tmp_path):
    """One epoch each, as the Waymo demo chains them: the teacher, the
    student alone, CMKD stage 1 from the teacher, stage 2 from both; every
    validation is WaymoAPMetric through the official op."""
    _registry()
    teacher_dir = tmp_path / 'teacher'
    metrics = _run(_runner_cfg(SYN['teacher'], waymo_world, teacher_dir))
    assert 'Waymo AP/Vehicle/L1 AP@0.7' in metrics
    teacher_ckpt = str(teacher_dir / 'epoch_1.pth')
    metrics = _run(_runner_cfg(SYN['student'], waymo_world,
                               tmp_path / 'student'))
    assert 'Waymo AP/Vehicle/L2 APH@0.5' in metrics
    _run(_runner_cfg(SYN['stage1'], waymo_world, tmp_path / 'stage1',
                     **{'model.teacher_ckpt': teacher_ckpt}))
    stage1 = str(tmp_path / 'stage1' / 'epoch_1.pth')
    metrics = _run(_runner_cfg(
        SYN['stage2'], waymo_world, tmp_path / 'stage2',
        **{'model.teacher_ckpt': teacher_ckpt, 'model.stage1_ckpt': stage1}))
    assert all(0.0 <= v <= 1.0 for k, v in metrics.items()
               if k.startswith('Waymo AP/'))
    # stage 2 started from the teacher's BEV detector and stage 1's branch
    state = torch.load(str(tmp_path / 'stage2' / 'epoch_1.pth'),
                       map_location='cpu', weights_only=False)['state_dict']
    assert any(k.startswith('student.bbox_head.') for k in state)
    assert mmengine.exists(str(tmp_path / 'stage2' / 'epoch_1.pth'))


def test_synthetic_waymo_second_teacher_with_the_kitti_style_fallback(
        waymo_world, tmp_path):
    """The synthetic Waymo SECOND teacher trains an epoch on CPU (spconv)
    and validates through WaymoAPMetric's KITTI-style fallback, which needs
    no Waymo environment: KittiMetric's keys, AP in [0, 100]."""
    _registry()
    infos = osp.join(waymo_world, 'waymo_infos_val.pkl')
    metrics = _run(_runner_cfg(
        'teachers/second/second_res-c64_secfpn_head-iouqfl_1xb4-cyclic-12e_'
        'synwaymo-3d-3class.py', waymo_world, tmp_path / 'second',
        **{'val_evaluator.metric': 'kitti', 'val_evaluator.ann_file': infos,
           'model.data_preprocessor.voxel_layer.max_voxels': (4000, 4000)}))
    key = 'Kitti metric/pred_instances_3d/KITTI/Car_3D_AP40_moderate_strict'
    assert key in metrics
    assert not any(k.startswith('Waymo AP/') for k in metrics)
    assert all(0.0 <= v <= 100.0 for k, v in metrics.items()
               if k.startswith('Kitti metric/'))
