"""The CMKD distiller on the synthetic world with the PointPillars teacher
(random weights saved to a checkpoint: no trained teacher needed)."""
import copy
import glob
import os
import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT


CFG_DIR = os.path.join(REPO_ROOT, 'configs', 'cmkd')


STAGE1 = os.path.join(
    CFG_DIR, 'cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-'
    '4e_synkitti-3d-3class.py')


STAGE2 = os.path.join(
    CFG_DIR, 'cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-'
    'onecycle-4e_synkitti-3d-3class.py')


STUDENT = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


TEACHER = os.path.join(
    REPO_ROOT, 'configs', 'teachers', 'pointpillars',
    'pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')


def _registry():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    return MODELS


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    """A (random) teacher checkpoint and a stage-1 checkpoint."""
    from mmengine.config import Config
    MODELS = _registry()
    d = tmp_path_factory.mktemp('ckpts')
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(TEACHER).model)
    for m in teacher.modules():          # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
    t_path = str(d / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), t_path)
    cfg = Config.fromfile(STAGE1)
    cfg.model.teacher_ckpt = t_path
    stage1 = MODELS.build(cfg.model)
    s_path = str(d / 'stage1.pth')
    torch.save(dict(state_dict=stage1.state_dict()), s_path)
    return dict(teacher=t_path, stage1=s_path, dir=d)


def _build(cfg_path, **model_kw):
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(cfg_path)
    cfg.model.update(model_kw)
    return cfg, MODELS.build(cfg.model)


def _batch(cfg, root, indices, train=True):
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    loader = cfg.train_dataloader if train else cfg.val_dataloader
    ds_cfg = copy.deepcopy(loader.dataset)
    ds_cfg.data_root = root.rstrip('/') + '/'
    for t in ds_cfg.pipeline:
        if t['type'] == 'ImageSpaceFlip3D':
            t['flip_ratio'] = 0.0
    ds = DATASETS.build(ds_cfg)
    return pseudo_collate([ds[i] for i in indices])


def test_teacher_frozen_eval_pinned_and_outside_the_optimizer(
        ckpts, synthetic_world):
    from mmengine.optim import build_optim_wrapper
    cfg, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'],
                        stage1_ckpt=ckpts['stage1'])
    # frozen at build time, before any optimizer exists
    assert not any(p.requires_grad for p in model.teacher.parameters())
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    in_optim = {id(p) for g in optim.optimizer.param_groups
                for p in g['params']}
    assert not in_optim & {id(p) for p in model.teacher.parameters()}
    assert {id(p) for p in model.student.parameters()} <= in_optim
    model.train()
    assert model.student.training
    assert not any(m.training for m in model.teacher.modules())
    before_t = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    before_s = model.student.img_backbone.reduce.conv.weight.clone()
    data = model.data_preprocessor(_batch(cfg, synthetic_world, [0, 1]),
                                   training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'distill.loss_bev', 'student.loss_depth', 'distill.loss_resp_cls',
        'distill.loss_resp_bbox', 'distill.loss_resp_dir',
        # the synthetic stage-2 config also uses the labels
        'student.loss_cls', 'student.loss_bbox', 'student.loss_dir'}
    loss, _ = model.parse_losses(losses)
    optim.update_params(loss)
    after_t = model.teacher.state_dict()
    for k, v in before_t.items():
        assert torch.equal(v, after_t[k]), k      # BN statistics included
    assert not torch.equal(before_s,
                           model.student.img_backbone.reduce.conv.weight)
    assert all(p.grad is None for p in model.teacher.parameters())
    # the teacher follows device / dtype moves as a registered submodule
    model.double()
    assert next(model.teacher.parameters()).dtype == torch.float64


def _assert_bev_detector_is_teachers(model, teacher_ckpt):
    """The student's BEV backbone / neck / head equal the teacher's
    checkpoint tensor for tensor; returns that state dict."""
    t = torch.load(teacher_ckpt, weights_only=True)['state_dict']
    for name in ('backbone', 'neck', 'bbox_head'):
        for k, v in getattr(model.student, name).state_dict().items():
            assert torch.equal(v, t[f'{name}.{k}']), f'{name}.{k}'
    return t


def test_stage2_initialisation(ckpts):
    from mmengine.runner import CheckpointLoader
    _, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'],
                      stage1_ckpt=ckpts['stage1'])
    model.init_weights()
    t = _assert_bev_detector_is_teachers(model, ckpts['teacher'])
    s1 = CheckpointLoader.load_checkpoint(ckpts['stage1'])['state_dict']
    for k, v in model.student.lift_neck.state_dict().items():
        assert torch.equal(v, s1[f'student.lift_neck.{k}']), k
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, t[k]), k


def test_one_stage_with_the_teachers_bev_detector(ckpts):
    """with_stage1=False: the BEV detector from the teacher, the image branch
    from the student's own init, no stage-1 checkpoint read."""
    from mmengine.runner import CheckpointLoader
    torch.manual_seed(0)
    _, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'], stage1_ckpt=None,
                      with_stage1=False)
    model.init_weights()
    t = _assert_bev_detector_is_teachers(model, ckpts['teacher'])
    # the image branch is the student's own init: not the stage-1 weights,
    # and the same as a plain student initialised from the same seed
    s1 = CheckpointLoader.load_checkpoint(ckpts['stage1'])['state_dict']
    w = model.student.lift_neck.state_dict()
    assert any(not torch.equal(v, s1[f'student.lift_neck.{k}'])
               for k, v in w.items() if v.is_floating_point())
    torch.manual_seed(0)
    _, ref = _build(STAGE2, teacher_ckpt=ckpts['teacher'], stage1_ckpt=None,
                    init_bev_from_teacher=False)
    ref.init_weights()
    for k, v in ref.student.lift_neck.state_dict().items():
        assert torch.equal(v, w[k]), k


def test_bad_teacher_and_stage1_checkpoints(ckpts):
    _, model = _build(STAGE1, teacher_ckpt=None)
    with pytest.raises(ValueError, match='teacher_ckpt is required'):
        model.init_weights()
    _, model = _build(STAGE1, teacher_ckpt='/nope/teacher.pth')
    with pytest.raises(FileNotFoundError, match='/nope/teacher.pth'):
        model.init_weights()
    t = torch.load(ckpts['teacher'], weights_only=True)['state_dict']
    partial = dict(t)
    partial.pop('bbox_head.conv_cls.weight')
    path = str(ckpts['dir'] / 'partial.pth')
    torch.save(dict(state_dict=partial), path)
    _, model = _build(STAGE1, teacher_ckpt=path)
    with pytest.raises(ValueError,
                       match='partial.pth does not match.*1 missing keys '
                       r'\[bbox_head.conv_cls.weight'):
        model.init_weights()
    _, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'])
    with pytest.raises(FileNotFoundError, match='stage 2 needs the stage-1'):
        model.init_weights()
    # a stage-1 checkpoint that would not be read is refused at build time
    for kw in (dict(with_stage1=False), dict(init_bev_from_teacher=False)):
        with pytest.raises(ValueError, match=r"stage1_ckpt='.*stage1.*"
                           r"would not be read"):
            _build(STAGE2, teacher_ckpt=ckpts['teacher'],
                   stage1_ckpt=ckpts['stage1'], **kw)


def test_grid_mismatch_raises_with_both_grids():
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(STAGE1)
    # 0.64 m cells tile the student range but give half the teacher's grid
    cfg.model.student['lift_neck'] = dict(cfg.model.student.lift_neck,
                                          voxel_size=[0.64, 0.64, 0.4])
    with pytest.raises(ValueError,
                       match=r'teacher \(C, Y, X\) \(64, 188, 140\).*'
                       r'student \(C, Y, X\) \(64, 94, 70\)'):
        MODELS.build(cfg.model)


def test_extracted_student_loads_strictly_and_predicts_the_same(
        ckpts, synthetic_world, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    cfg, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'],
                        stage1_ckpt=ckpts['stage1'])
    model.init_weights()
    src = str(tmp_path / 'cmkd.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=4)), src)
    dst = str(tmp_path / 'student.pth')
    proc = subprocess.run(
        [sys.executable,
         os.path.join(REPO_ROOT, 'tools', 'model_converters',
                      'extract_student.py'), src, dst],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    saved = torch.load(dst, weights_only=True)['state_dict']
    assert not any(k.startswith('teacher') for k in saved)
    MODELS = _registry()
    student = MODELS.build(Config.fromfile(STUDENT).model)
    load_checkpoint(student, dst, strict=True, map_location='cpu')
    batch = _batch(cfg, synthetic_world, [0, 1], train=False)
    model.eval()
    student.eval()
    for m in (model.student.bbox_head, student.bbox_head):
        m.test_cfg['score_thr'] = 0.0
    with torch.no_grad():
        a = model(**model.data_preprocessor(copy.deepcopy(batch)),
                  mode='predict')
        b = student(**student.data_preprocessor(copy.deepcopy(batch)),
                    mode='predict')
    for x, y in zip(a, b):
        xi, yi = x.pred_instances_3d, y.pred_instances_3d
        assert len(xi.scores_3d) > 0
        assert torch.equal(xi.bboxes_3d.tensor, yi.bboxes_3d.tensor)
        assert torch.equal(xi.scores_3d, yi.scores_3d)
    bad = subprocess.run(
        [sys.executable,
         os.path.join(REPO_ROOT, 'tools', 'model_converters',
                      'extract_student.py'), ckpts['teacher'], dst],
        capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and 'no student.* weights' in bad.stderr


def test_bev_loss_with_ground_truth_box_mask(ckpts, synthetic_world):
    """mask='gt_boxes' weights the BEV loss by the boxes' footprints."""
    cfg, model = _build(STAGE1, teacher_ckpt=ckpts['teacher'])
    model.init_weights()
    data = model.data_preprocessor(_batch(cfg, synthetic_world, [0]),
                                   training=True)
    plain = model(**copy.deepcopy(data), mode='loss')['distill.loss_bev']
    model.loss_bev.mask = 'gt_boxes'
    model.loss_bev.background_weight = 0.0
    fg = model._box_mask(data['data_samples'],
                         torch.zeros(1, 1, 188, 140))
    n = int(fg.sum())
    assert 0 < n < 188 * 140 / 10          # a few boxes' footprints
    masked = model(**copy.deepcopy(data), mode='loss')['distill.loss_bev']
    assert torch.isfinite(masked) and masked.item() != plain.item()


def test_ground_truth_losses_only_on_labeled_frames(ckpts, synthetic_world):
    """with_gt_loss: a frame with has_labels=False (an unlabeled raw frame)
    teaches through distillation only; the ground-truth losses equal the
    head's losses on the labeled frames alone."""
    cfg, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'],
                        stage1_ckpt=ckpts['stage1'])
    model.init_weights()
    model.eval()                  # BN statistics independent of the batch
    data = model.data_preprocessor(_batch(cfg, synthetic_world, [0, 1]),
                                   training=True)
    both = model(**copy.deepcopy(data), mode='loss')
    data['data_samples'][1].set_metainfo(dict(has_labels=False))
    losses = model(**copy.deepcopy(data), mode='loss')
    student = model.student
    with torch.no_grad():
        x = student.bev_head_inputs(student.extract_bev(
            data['inputs'], data['data_samples'])['bev'])
        ref = student.bbox_head.loss([f[:1] for f in x],
                                     data['data_samples'][:1])

    def total(v):
        return float(sum(v)) if isinstance(v, (list, tuple)) else float(v)

    for k in ('loss_cls', 'loss_bbox', 'loss_dir'):
        assert total(losses[f'student.{k}']) == pytest.approx(
            total(ref[k]), rel=1e-5)
    assert total(both['student.loss_cls']) != pytest.approx(
        total(losses['student.loss_cls']), rel=1e-5)
    # the distillation losses see both frames either way
    assert float(losses['distill.loss_bev']) == pytest.approx(
        float(both['distill.loss_bev']), rel=1e-6)


@pytest.mark.parametrize('family', ['second-res-c64', 'centerpoint-res'])
def test_kitti_stage2_with_sparse_conv_teachers(family, synthetic_world,
                                                tmp_path):
    """The KITTI stage-2 configs with SECOND (VoxelNet, sparse conv) and
    CenterPoint (MVX-style ``pts_*`` parts) teachers: strict teacher load,
    teacher -> student BEV weight copy, one distillation step on a
    synthetic frame (ResNet-18 instead of 50 to keep it short)."""
    from mmengine.config import Config
    MODELS = _registry()
    path = [p for p in glob.glob(os.path.join(CFG_DIR, '*.py'))
            if f'_bev-resp_{family}_' in p and 'kitti-3d' in p][0]
    cfg = Config.fromfile(path)
    teacher_cfg = cfg.model.teacher
    torch.manual_seed(0)
    from cmkd_mmdet3d.models.detectors.teacher_utils import model_cfg_from
    teacher = MODELS.build(model_cfg_from(teacher_cfg))
    t_path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), t_path)
    cfg.model.student.update(img_backbone=dict(
        backbone=dict(depth=18, init_cfg=None), feat_in_channels=256,
        deep_in_channels=512))
    cfg.model.teacher_ckpt = t_path
    stage1 = MODELS.build(dict(cfg.model, init_bev_from_teacher=False))
    s_path = str(tmp_path / 'stage1.pth')
    torch.save(dict(state_dict=stage1.state_dict()), s_path)
    cfg.model.stage1_ckpt = s_path
    model = MODELS.build(cfg.model)
    model.init_weights()
    prefix = 'pts_' if family.startswith('centerpoint') else ''
    t_state = teacher.state_dict()
    for k, v in model.student.bbox_head.state_dict().items():
        assert torch.equal(v, t_state[f'{prefix}bbox_head.{k}']), k
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.data_root = synthetic_world + '/'
    for t in ds_cfg.pipeline:
        if t['type'] == 'ImageSpaceFlip3D':
            t['flip_ratio'] = 0.0
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    batch = pseudo_collate([DATASETS.build(ds_cfg)[0]])
    model.train()
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    keys = set(losses)
    assert 'distill.loss_bev' in keys
    if prefix:
        assert {'distill.task0.loss_resp_heatmap',
                'distill.task0.loss_resp_bbox'} <= keys
    else:
        assert {'distill.loss_resp_cls', 'distill.loss_resp_bbox',
                'distill.loss_resp_dir', 'student.loss_depth'} <= keys
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is None for p in model.teacher.parameters())


def test_distiller_losses_equal_student_interface_plus_distill_losses(
        ckpts, synthetic_world):
    """CMKD.loss is the student's narrow interface (loss_and_bev, bev_grid,
    bbox_head.loss_by_teacher) plus the distillation losses: the same
    values, computed by hand on one tiny batch (stage 2, response + ground
    truth, box-masked BEV loss, one unlabeled frame)."""
    from cmkd_mmdet3d.models.detectors.teacher_utils import \
        teacher_bev_and_outputs
    cfg, model = _build(STAGE2, teacher_ckpt=ckpts['teacher'],
                        stage1_ckpt=ckpts['stage1'])
    model.init_weights()
    model.eval()                  # dropout off, BN statistics fixed
    model.loss_bev.mask = 'gt_boxes'
    model.loss_bev.background_weight = 0.3
    data = model.data_preprocessor(_batch(cfg, synthetic_world, [0, 1]),
                                   training=True)
    data['data_samples'][1].set_metainfo(dict(has_labels=False))
    with torch.no_grad():
        losses = model(**copy.deepcopy(data), mode='loss')
        d = copy.deepcopy(data)
        inputs, samples = d['inputs'], d['data_samples']
        student = model.student
        grid = student.bev_grid
        assert grid.shape == (64, 188, 140)
        mask = model._box_mask(samples, torch.zeros((1, 1) + grid.shape[1:]))
        s_losses, bev, s_out = student.loss_and_bev(
            inputs, samples, with_gt_loss=True, with_head_outputs=True)
        assert bev.shape == (2, ) + grid.shape
        t_bev, t_out = teacher_bev_and_outputs(model.teacher,
                                               inputs['voxels'], 2, True)
        expected = {'distill.loss_bev': model.loss_bev(bev, t_bev, mask),
                    'student.loss_depth': s_losses.pop('loss_depth')}
        for k, v in student.bbox_head.loss_by_teacher(s_out,
                                                      t_out).items():
            expected[f'distill.{k}'] = v
        for k, v in s_losses.items():
            expected[f'student.{k}'] = v
    assert list(losses) == list(expected)     # same summation order too

    def flat(v):
        return list(v) if isinstance(v, (list, tuple)) else [v]

    for k, v in expected.items():
        for a, b in zip(flat(losses[k]), flat(v)):
            assert torch.equal(a, b), k
    assert float(mask.sum()) < mask.numel()   # the mask did something


def test_check_bev_grids_refuses_a_student_grid_shifted_by_one_cell():
    """check_bev_grids (the distiller's build-time check, also used by
    show_bev_features.py) passes the synthetic pair and names both grids
    when the student's range is shifted by one 0.32 m cell."""
    from mmengine.config import Config

    from cmkd_mmdet3d.models.detectors.cmkd import check_bev_grids
    MODELS = _registry()
    cfg = Config.fromfile(STAGE1)
    model = MODELS.build(cfg.model)
    check_bev_grids(model.teacher, model.student, model.data_preprocessor)
    rng = list(cfg.model.student.lift_neck.point_cloud_range)
    rng[0], rng[3] = rng[0] + 0.32, rng[3] + 0.32
    shifted = MODELS.build(dict(
        cfg.model.student,
        lift_neck=dict(cfg.model.student.lift_neck, point_cloud_range=rng)))
    with pytest.raises(ValueError, match=r'BEV grids differ.*teacher .*'
                       r'range \(2, .*vs student .*range \(2\.32, '):
        check_bev_grids(model.teacher, shifted, model.data_preprocessor)
    with pytest.raises(ValueError, match='voxel=True'):
        check_bev_grids(model.teacher, model.student, object())


# --------------------------------------------------------------------------
# CMKD-MV: the surround-view student and the CenterPoint teacher
# --------------------------------------------------------------------------
def test_surround_cmkd_trains_a_step(nus_world, tmp_path):
    """The synthetic nuScenes distiller: one step on two frames gives the
    BEV feature loss (x 50), per-task heatmap and box responses, the
    student's depth and ground-truth losses; the distillation losses are
    the configured loss functions applied by hand to the two models'
    outputs; only the student gets gradients."""
    from _helpers.models import SURROUND_CMKD, surround_batch
    from mmengine.config import Config
    from cmkd_mmdet3d.models.detectors.teacher_utils import (
        build_frozen_teacher, teacher_bev_and_outputs)
    MODELS = _registry()
    cfg = Config.fromfile(SURROUND_CMKD)
    torch.manual_seed(0)
    teacher = build_frozen_teacher(cfg.model.teacher)
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg.model.teacher_ckpt = ckpt
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    assert not model.teacher.training
    batch = surround_batch(cfg, nus_world[0], [0, 1])
    data = model.data_preprocessor(batch, True)
    assert data['inputs']['voxels']['voxels'].shape[-1] == 5
    torch.manual_seed(1)            # the same dropout masks below
    losses = model(**data, mode='loss')
    keys = set(losses)
    assert {'distill.loss_bev', 'student.loss_depth',
            'distill.task5.loss_resp_heatmap',
            'distill.task5.loss_resp_bbox',
            'student.task5.loss_heatmap'} <= keys
    assert len(keys) == 2 + 12 + 12
    # the BEV loss by hand, from the two models' maps (the student still in
    # train mode: the same batch statistics as in the pass above)
    student = model.student
    with torch.no_grad():
        torch.manual_seed(1)
        bev = student.extract_bev(data['inputs'], data['data_samples'])['bev']
        t_bev, t_out = teacher_bev_and_outputs(
            model.teacher, data['inputs']['voxels'], 2, True)
    assert t_bev.shape == bev.shape == (2, 64, 128, 128)
    total = sum(losses.values())
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert student.lift_neck.collapse.conv.weight.grad.abs().sum() > 0
    expected = 50 * (bev - t_bev).pow(2).mean().item()
    assert losses['distill.loss_bev'].item() == pytest.approx(expected,
                                                              rel=1e-4)


def test_surround_cmkd_refuses_points_without_the_time_lag(nus_world,
                                                           tmp_path):
    """The teacher reads 5 point features (the sweeps' time lag fifth); a
    pipeline that loads 4 is refused with the two numbers, before the
    teacher's first layer fails on a shape."""
    import copy
    from _helpers.models import SURROUND_CMKD, surround_batch
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(SURROUND_CMKD)
    model = MODELS.build(cfg.model)
    assert model.teacher_point_dims == 5
    pipeline = copy.deepcopy(cfg.distill_train_pipeline)
    pipeline[0].update(use_dim=4)
    pipeline = [pipeline[0]] + pipeline[2:]
    pipeline = [t for t in pipeline if t['type'] != 'MakeDepthTarget']
    batch = surround_batch(cfg, nus_world[0], [0], pipeline=pipeline)
    cfg.model.student.loss_depth = None
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='teacher reads 5 features per '
                       'point, the pipeline gives 4'):
        model(**model.data_preprocessor(batch, True), mode='loss')


def test_surround_cmkd_refuses_another_student_grid():
    """A student lifting into 0.4 m cells (256 x 256) under the teacher's
    0.8 m pillars is refused at build time, naming both grids."""
    from _helpers.models import SURROUND_CMKD
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(SURROUND_CMKD)
    cfg.model.student.lift_neck.voxel_size = [0.4, 0.4, 0.8]
    with pytest.raises(ValueError, match=r'teacher \(C, Y, X\) \(64, 128, '
                       r'128\).*student \(C, Y, X\) \(64, 256, 256\)'):
        MODELS.build(cfg.model)


def test_nuscenes_cmkd_mv_config_trains_a_step_on_the_nuscenes_sample(
        tmp_path):
    """CMKD-MV's nuScenes setting (R50 student, 256 x 704 views, the 0.1 m
    CenterPoint teacher with 10 sweeps) on mmdet3d's real nuScenes sample:
    the teacher's SparseEncoder map and the student's lift coincide (256 x
    128 x 128), and one distillation step (CMKD-MV's image-view
    augmentation to 64 x 176 windows of views scaled by about 1/9, for CPU;
    no ImageNet download) gives finite losses for the six tasks and
    gradients for the student only."""
    import copy
    from _helpers.models import (NUS_CMKD, nuscenes_sample_with_six_images,
                                 surround_batch)
    from mmengine.config import Config
    from cmkd_mmdet3d.models.detectors.teacher_utils import \
        build_frozen_teacher
    root = nuscenes_sample_with_six_images(tmp_path)
    if root is None:
        pytest.skip('mmdet3d sample data not present')
    MODELS = _registry()
    cfg = Config.fromfile(NUS_CMKD)
    assert cfg.train_cfg.max_epochs == 24
    assert cfg.model.student.img_backbone.backbone.depth == 50
    kinds = [t['type'] for t in cfg.distill_train_pipeline]
    aug = cfg.distill_train_pipeline[kinds.index('BEVDetImageAug3D')]
    assert kinds.index('BEVDetImageAug3D') == \
        kinds.index('LoadMultiViewImageFromFiles') + 1
    # CMKD-MV's data_config; its test-time transform is the fixed one
    assert (aug.final_size, aug.resize, aug.rot, aug.flip, aug.resize_test) \
        == ((256, 704), (-0.06, 0.06), (-5.4, 5.4), True, 0.04)
    assert cfg.test_pipeline[1] == dict(aug, test_mode=True)
    cfg.model.student.img_backbone.backbone.init_cfg = None
    torch.manual_seed(0)
    teacher = build_frozen_teacher(cfg.model.teacher)
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg.model.teacher_ckpt = ckpt
    model = MODELS.build(cfg.model)
    assert model.student.bev_grid.shape == (256, 128, 128)
    model.init_weights()
    model.train()
    pipeline = copy.deepcopy(cfg.distill_train_pipeline)
    for t in pipeline:
        if t['type'] == 'BEVDetImageAug3D':
            # for CPU: 64 x 176 windows of the views scaled by 0.11 +- 0.01
            t.update(final_size=(64, 176), resize=(-0.01, 0.01))
    batch = surround_batch(cfg, root, [0], ann_file='nus_info.pkl',
                           pipeline=pipeline)
    assert batch['inputs']['img'][0].shape == (6, 3, 64, 176)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert len([k for k in losses if 'resp_heatmap' in k]) == 6
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())


def test_teacher_with_another_direction_convention_is_refused():
    """mmdet3d's anchor heads split headings at -pi/2, CMKD's at pi/4: a
    teacher left at mmdet3d's default would teach the other bin for 3/4 of
    the headings (response distillation, stage-2 init)."""
    from mmengine.config import Config
    cfg = Config.fromfile(STAGE2)
    cfg.model.teacher = dict(cfg.model.teacher,
                             bbox_head=dict(dir_offset=-1.5708))
    with pytest.raises(ValueError, match=r'teacher dir_offset -1\.57080.*'
                       r'student dir_offset 0\.78539'):
        _registry().build(cfg.model)
    # stage 1 uses neither the teacher's head nor its direction bins
    stage1 = Config.fromfile(STAGE2.replace('cmkd_bev-resp_', 'cmkd_bev_'))
    stage1.model.teacher = cfg.model.teacher
    _registry().build(stage1.model)
