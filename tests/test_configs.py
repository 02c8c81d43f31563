"""Every config parses and builds; the distillation matrix carries the
reference's numbers (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/); the one-cycle
schedule does what its comment says."""
import glob
import os

import pytest
import torch
import yaml
from mmengine.config import Config

from conftest import REPO_ROOT

CMKD_CFGS = sorted(glob.glob(os.path.join(REPO_ROOT, 'configs', 'cmkd',
                                          '*.py')))


def _registry():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    return MODELS


def test_metafiles_list_every_config():
    with open(os.path.join(REPO_ROOT, 'model-index.yml')) as f:
        metas = yaml.safe_load(f)['Import']
    listed = set()
    for meta in metas:
        with open(os.path.join(REPO_ROOT, meta)) as f:
            for m in yaml.safe_load(f)['Models']:
                assert os.path.exists(os.path.join(REPO_ROOT, m['Config']))
                listed.add(m['Config'])
    for folder in ('cmkd', 'cmkd_mono3d', 'teachers'):
        for path in glob.glob(os.path.join(REPO_ROOT, 'configs', folder,
                                           '**', '*.py'), recursive=True):
            rel = os.path.relpath(path, REPO_ROOT)
            assert rel in listed, f'{rel} has no metafile entry'


@pytest.mark.parametrize('path', CMKD_CFGS,
                         ids=[os.path.basename(p)[:40] for p in CMKD_CFGS])
def test_cmkd_configs_build_with_matching_grids(path):
    MODELS = _registry()
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)          # runs the grid check
    name = os.path.basename(path)
    # the points the pipeline loads are the points the teacher reads
    ds = cfg.train_dataloader.dataset
    while 'pipeline' not in ds:
        ds = ds.get('dataset') or ds['datasets'][0]
    load = [t for t in ds.pipeline if t['type'] == 'LoadPointsFromFile'][0]
    use = load.get('use_dim', load.get('load_dim'))
    assert model.teacher_point_dims == (
        use if isinstance(use, int) else len(use))
    assert cfg.optim_wrapper.constructor == \
        'TrainableOptimWrapperConstructor'
    if name.endswith(('_synnus-3d.py', '_nus-3d.py')):
        # CMKD-MV: one stage, responses and ground truth, the student as
        # built; the teacher's points and the same BEV augmentation
        assert model.with_response and model.with_gt_loss
        assert not model.init_bev_from_teacher
        ds = cfg.train_dataloader.dataset.dataset
        kinds = [t['type'] for t in ds.pipeline]
        assert kinds.index('BEVAugToCameras') > kinds.index('RandomFlip3D')
        assert 'points' in ds.pipeline[-1]['keys']
        return
    pseudo = '_bev-pseudo_' in name
    stage2 = '_bev-resp_' in name or pseudo
    assert model.with_response == (stage2 and not pseudo)
    # the one-stage leaves train the student from scratch, or (-tinit) from
    # the teacher's BEV detector without a stage-1 image branch
    one_stage = name.startswith('cmkd-1stage_')
    assert model.init_bev_from_teacher == (stage2 and not one_stage)
    assert model.with_stage1 == (
        not name.startswith('cmkd-1stage-tinit_'))
    assert (model.student.bbox_head is not None) == stage2
    assert cfg.optim_wrapper.clip_grad.max_norm == 10
    ds = cfg.train_dataloader.dataset
    parts = ds.datasets if ds.type == 'ConcatDataset' else [ds]
    for part in parts:
        kinds = {t['type'] for t in part.pipeline}
        assert {'ImageSpaceFlip3D', 'FOVFilterPoints',
                'PackCMKDInputs'} <= kinds
        assert 'points' in part.pipeline[-1]['keys']
    if 'eigen' in name:
        assert [p.type for p in parts] == ['KittiDataset', 'KittiRawDataset']
        # pseudo-label scores must stay aligned with their boxes
        assert not {'ObjectRangeFilter', 'ObjectNameFilter'} & {
            t['type'] for t in parts[1].pipeline}
    if '_kitti-eigen' in name:
        assert model.student.loss_depth is None
        assert cfg.model.loss_bev.loss_weight == 32.0
        assert cfg.train_cfg.max_epochs == (10 if stage2 else 30)
        assert cfg.optim_wrapper.optimizer.lr * 10 == pytest.approx(
            1e-4 if pseudo else 2e-4 if stage2 else 2e-3)
    if '_synkitti-eigen' in name:     # 2 labeled + 2 raw frames per batch
        # the one-stage leaf takes both stages' epochs (640 steps)
        assert cfg.train_cfg.max_epochs == (
            8 if name.startswith('cmkd-1stage-tinit_') else 4)
        assert cfg.train_dataloader.batch_size == 4
        assert cfg.train_dataloader.sampler == dict(
            type='MixedBatchSampler', source_ratio=[2, 2])
    if pseudo:
        assert model.with_gt_loss
        assert type(model.student.bbox_head).__name__ == \
            'ScoreWeightedAnchor3DHead'
        assert 'PseudoLabelHook' in [h['type'] for h in cfg.custom_hooks]
    if not stage2:
        assert cfg.val_dataloader is None
    else:
        test_kinds = {t['type'] for t in cfg.test_dataloader.dataset.pipeline}
        assert 'LoadPointsFromFile' not in test_kinds


def _weights(path):
    cfg = Config.fromfile(path).model
    head = cfg.student.get('bbox_head') or {}
    return dict(bev=cfg.loss_bev.loss_weight,
                cls=head.get('loss_resp_cls', {}).get('loss_weight'),
                loc=head.get('loss_resp_bbox', {}).get('loss_weight'),
                dir=head.get('loss_resp_dir', {}).get('loss_weight'))


@pytest.mark.parametrize('family,bev,cls,loc,dir_,lr2', [
    ('second-res-c64', 32.0, 8.0, 2.0, 0.4, 1e-4),
    ('pointpillars-scatterconv', 4.0, 4.0, 2.0, 0.2, 2e-4),
])
def test_kitti_anchor_matrix_matches_the_reference(family, bev, cls, loc,
                                                   dir_, lr2):
    """Appendix A; the class weight is the reference's x 4 because the
    reference sums it over its 4 samples per GPU."""
    stage2 = [p for p in CMKD_CFGS
              if f'_bev-resp_{family}_' in p and
              p.endswith('_kitti-3d-3class.py')]
    assert len(stage2) == 1
    assert _weights(stage2[0]) == dict(bev=bev, cls=cls, loc=loc, dir=dir_)
    cfg = Config.fromfile(stage2[0])
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.optim_wrapper.optimizer.lr * 10 == pytest.approx(lr2)
    stage1 = stage2[0].replace('_bev-resp_', '_bev_').replace('-20e_',
                                                              '-60e_')
    cfg1 = Config.fromfile(stage1)
    assert cfg1.train_cfg.max_epochs == 60
    assert cfg1.optim_wrapper.optimizer.lr * 10 == pytest.approx(2e-3)
    assert cfg1.model.loss_bev.loss_weight == bev


def test_onecycle_schedule_numbers():
    """lr: peak / 10 -> peak at 40 % -> about peak / 1e4; beta1 0.95 ->
    0.85 -> 0.95 (the reference's adam_onecycle)."""
    from mmengine.optim import build_optim_wrapper
    from mmdet3d.registry import PARAM_SCHEDULERS
    _registry()
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', '_base_', 'schedules', 'onecycle-adamw.py'))
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    opt = wrapper.optimizer
    epoch_len = 5
    scheds = []
    for s in cfg.param_scheduler:
        s = dict(dict(end=60), **s)   # the Runner's max_epochs
        s.pop('convert_to_iter_based')
        cls = PARAM_SCHEDULERS.get(s.pop('type'))
        scheds.append(cls.build_iter_from_epoch(opt, epoch_length=epoch_len,
                                                **s))
    lrs, b1 = [], []
    for _ in range(60 * epoch_len):
        lrs.append(opt.param_groups[0]['lr'])
        b1.append(opt.param_groups[0]['betas'][0])
        for s in scheds:
            s.step()
    assert lrs[0] == pytest.approx(2e-4)
    assert max(lrs) == pytest.approx(2e-3, rel=1e-3)
    assert abs(lrs.index(max(lrs)) - 0.4 * 60 * epoch_len) <= 1
    assert lrs[-1] < 2e-3 * 1e-3
    assert b1[0] == pytest.approx(0.95) and b1[-1] == pytest.approx(
        0.95, abs=1e-4)
    assert min(b1) == pytest.approx(0.85, abs=1e-4)


def test_waymo_configs_share_the_kitti_recipe_on_the_waymo_grid():
    """The Waymo distillers are the KITTI ones (losses, stages) on the
    reference author's Waymo range and 0.4 m cells (Cc-Hy/CMKD#12), with
    the teacher's anchors and CMKD's direction bins on both heads."""
    waymo = [p for p in CMKD_CFGS if 'waymo' in os.path.basename(p)]
    # stages 1, 2: PointPillars, SECOND, synthetic; the synthetic one stage
    assert len(waymo) == 7
    for path in waymo:
        cfg = Config.fromfile(path)
        student = cfg.model.student
        assert student.lift_neck.point_cloud_range == [0, -25.6, -2, 51.2,
                                                       25.6, 4]
        assert student.lift_neck.voxel_size == [0.4, 0.4, 0.4]
        ds = cfg.train_dataloader.dataset
        assert ds.type == 'WaymoDataset'
        kinds = [t['type'] for t in ds.pipeline]
        assert kinds.index('ObjectFOVFilter') < kinds.index(
            'ImageSpaceFlip3D')
        if '_bev-resp_' in path:
            assert cfg.val_evaluator.type == 'WaymoAPMetric'
            assert cfg.val_evaluator.waymo_bin_file.endswith('fov_gt.bin')
            kitti = path.replace('pillar04', 'pillar032').replace(
                'synwaymo', 'synkitti') if 'synwaymo' in path else \
                path.replace('-6e_waymoD5-fov-', '-20e_kitti-')
            assert _weights(path) == _weights(kitti)
            teacher = Config.fromfile(cfg.model.teacher.cfg_path.replace(
                'cmkd_mmdet3d::', os.path.join(REPO_ROOT, 'configs') + '/'))
            t_head = teacher.model.get('pts_bbox_head') or \
                teacher.model.bbox_head
            assert t_head.dir_offset == 0.78539
            assert t_head.anchor_generator.sizes == \
                student.bbox_head.anchor_generator.sizes


def test_dense_synthetic_teacher_fits_the_synthetic_distiller():
    """The synthetic teacher with the reference's conv stem is a drop-in
    teacher of the synthetic distiller: same grid (the build's grid check),
    and a BEV map of the student's shape whose cells beside a pillar are no
    longer zero (the conv stem spreads each pillar to its neighbours)."""
    MODELS = _registry()
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'cmkd', 'cmkd_bev_pointpillars-pillar032_'
        'r18-aspp-lid40_1xb2-onecycle-4e_synkitti-3d-3class.py'))
    cfg.model.teacher.cfg_path = os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'pointpillars', 'pointpillars_'
        'pillar032-scatterconv_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')
    model = MODELS.build(cfg.model)
    encoder = model.teacher.middle_encoder
    assert type(encoder).__name__ == 'PointPillarsScatterConv'
    assert encoder.stride == 1 and encoder.out_channels == 64
    torch.manual_seed(0)
    for m in encoder.convs.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.uniform_(m.weight, 0.0, 1.0)
    encoder.eval()
    coors = torch.tensor([[0, 0, 50, 70]])
    with torch.no_grad():
        bev = encoder(torch.rand(1, 64) + 0.1, coors, 1)
    assert bev.shape == (1, 64, 188, 140)
    # three 3x3 convs reach 3 cells away from the pillar, and no further
    near = bev[0, :, 47:54, 67:74].abs().sum(0)
    assert (near > 0).all()
    assert bev[0, :, :46].abs().sum() == 0 and bev[0, :, 55:].abs().sum() == 0
