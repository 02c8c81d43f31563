"""The teachers' training recipes are the reference's
(Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-{scd,ctp,pp}/*_teacher.yaml):
one-cycle learning rate and beta1 as OpenPCDet's adam_onecycle / torch's
OneCycleLR, ground-truth sampling as OpenPCDet's kitti_dataset.yaml."""
import math
import os

import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT

CFG = os.path.join(REPO_ROOT, 'configs')
SECOND = 'teachers/second/second_res-c64_secfpn_head-iouqfl_8xb8-80e_kitti-3d-3class.py'  # noqa: E501
CTP = 'teachers/centerpoint/centerpoint_res_secfpn_head-1task_8xb8-80e_kitti-3d-3class.py'  # noqa: E501
PP = 'teachers/pointpillars/pointpillars_hv-scatterconv_secfpn_8xb8-80e_kitti-3d-3class.py'  # noqa: E501
SYN = [
    'teachers/pointpillars/pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py',  # noqa: E501
    'teachers/second/second_res-c64_secfpn_head-iouqfl_1xb4-cyclic-12e_synkitti-3d-3class.py',  # noqa: E501
    'teachers/centerpoint/centerpoint_res_secfpn_head-1task_1xb4-cyclic-12e_synkitti-3d-3class.py',  # noqa: E501
]

# (config, peak lr, final lr / peak, epochs, iterations per epoch).
# adam_onecycle (SECOND, PointPillars): peak / 10 -> peak -> peak / 1e5
# (learning_schedules_fastai.OneCycle); torch OneCycleLR with div 10 and
# final_div 1000 (CenterPoint, the students): -> peak / 1e4. The epoch
# lengths make the last iteration land within 1 % of the final rate.
SCHEDULES = [
    (SECOND, 3e-3, 1e-5, 80, 125),
    (PP, 3e-3, 1e-5, 80, 125),
    (CTP, 3e-3, 1e-4, 80, 50),
    (SYN[0], 2e-2, 1e-5, 12, 1000),
    ('_base_/schedules/onecycle-adamw.py', 2e-3, 1e-4, 20, 200),
    ('_base_/schedules/onecycle-adamw.py', 2e-3, 1e-4, 60, 70),
]


def _schedule(rel, epoch_len, epochs=None):
    """lr and beta1 of every iteration, from the config's optimizer and
    param_scheduler built as mmengine's Runner does (iteration-based; a
    phase without ``end`` ends at ``train_cfg.max_epochs``, which
    ``epochs`` sets)."""
    from mmdet3d.utils import register_all_modules
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    cfg = Config.fromfile(os.path.join(CFG, rel))
    if epochs is not None:
        cfg.train_cfg.max_epochs = epochs
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    scheds = [
        PARAM_SCHEDULERS.build(
            dict(dict(end=cfg.train_cfg.max_epochs), **s),
            default_args=dict(optimizer=wrapper,
                              epoch_length=epoch_len))
        for s in cfg.param_scheduler
    ]
    group = wrapper.optimizer.param_groups[0]
    lrs, b1 = [], []
    for _ in range(cfg.train_cfg.max_epochs * epoch_len):
        lrs.append(group['lr'])
        b1.append(group['betas'][0])
        for s in scheds:
            s.step()
    return cfg, lrs, b1


def _cosine(start, end, t):
    return end + (start - end) * (1 + math.cos(math.pi * t)) / 2


@pytest.mark.parametrize('rel,peak,final,epochs,epoch_len', SCHEDULES)
def test_one_cycle_lr_and_beta1(rel, peak, final, epochs, epoch_len):
    cfg, lrs, b1 = _schedule(rel, epoch_len, epochs)
    total = epochs * epoch_len
    n1 = int(0.4 * total)
    n2 = total - n1
    assert len(lrs) == total
    # begin: peak / 10, beta1 0.95
    assert lrs[0] == pytest.approx(peak / 10, rel=1e-9)
    assert b1[0] == pytest.approx(0.95, abs=1e-12)
    # peak at 40 %: lr = peak, beta1 = 0.85
    assert max(lrs) == pytest.approx(peak, rel=1e-4)
    assert abs(lrs.index(max(lrs)) - n1) <= 1
    assert lrs[n1] == pytest.approx(peak, rel=1e-4)
    assert b1[n1] == pytest.approx(0.85, abs=1e-5)
    assert min(b1) == pytest.approx(0.85, abs=1e-5)
    # end: peak * final, beta1 back at 0.95 and never above it (mmdet3d's
    # cyclic-40e takes it to 1.0)
    assert lrs[-1] == pytest.approx(peak * final, rel=1e-2)
    assert b1[-1] == pytest.approx(0.95, abs=1e-6)
    assert max(b1) <= 0.95 + 1e-12
    # every iteration: the two cosine halves, written out by hand
    # (mmengine holds the value of iteration n1 - 1 at n1)
    top_lr = _cosine(peak / 10, peak, (n1 - 1) / n1)
    top_b1 = _cosine(0.95, 0.85, (n1 - 1) / n1)
    for g in (0, n1 // 2, n1 - 1, n1, n1 + n2 // 3, total - 1):
        if g < n1:
            lr = _cosine(peak / 10, peak, g / n1)
            mom = _cosine(0.95, 0.85, g / n1)
        else:
            lr = _cosine(top_lr, peak * final, (g - n1) / n2)
            mom = _cosine(top_b1, 0.95, (g - n1) / n2)
        assert lrs[g] == pytest.approx(lr, rel=1e-6), g
        assert b1[g] == pytest.approx(mom, abs=1e-9), g


def test_centerpoint_schedule_follows_torch_one_cycle():
    """The CenterPoint teacher's curve is torch's OneCycleLR(max_lr 3e-3,
    pct_start 0.4, div_factor 10, final_div_factor 1000, momentum
    0.95 -> 0.85) up to mmengine's one-iteration lag, and its AdamW has
    torch's default beta2 0.999."""
    epoch_len = 50
    cfg, lrs, b1 = _schedule(CTP, epoch_len)
    assert tuple(cfg.optim_wrapper.optimizer.betas) == (0.95, 0.999)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.01
    total = len(lrs)
    opt = torch.optim.AdamW(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=3e-3, total_steps=total, pct_start=0.4,
        base_momentum=0.85, max_momentum=0.95, div_factor=10,
        final_div_factor=1000)
    ref_lr, ref_b1 = [], []
    for _ in range(total):
        ref_lr.append(opt.param_groups[0]['lr'])
        ref_b1.append(opt.param_groups[0]['betas'][0])
        opt.step()
        sched.step()
    assert ref_lr[-1] == pytest.approx(3e-3 / 1e4, rel=1e-6)
    assert max(abs(a - b) for a, b in zip(lrs, ref_lr)) < 2e-3 * 3e-3
    assert max(abs(a - b) for a, b in zip(b1, ref_b1)) < 2e-3 * 0.1


def _train_pipeline(cfg):
    ds = cfg.train_dataloader.dataset
    while 'pipeline' not in ds:
        ds = ds.dataset
    return ds.pipeline


@pytest.mark.parametrize('rel,groups', [
    (SECOND, dict(Car=20, Pedestrian=15, Cyclist=15)),
    (CTP, dict(Car=20, Pedestrian=15, Cyclist=15)),
    (PP, dict(Car=15, Pedestrian=15, Cyclist=15)),
])
def test_kitti_teacher_gt_sampling(rel, groups):
    """gt_sampling of the reference: USE_ROAD_PLANE True, filter_by_min_points
    5 for every class, filter_by_difficulty -1, SAMPLE_GROUPS Car 20 /
    Pedestrian 15 / Cyclist 15 (PointPillars: Car 15); no ObjectNoise;
    world flip, rotation +-pi/4, scaling 0.95-1.05."""
    cfg = Config.fromfile(os.path.join(CFG, rel))
    pipeline = _train_pipeline(cfg)
    types = [t['type'] for t in pipeline]
    assert 'ObjectNoise' not in types
    assert types.index('ObjectSample') < types.index('RandomFlip3D') < \
        types.index('GlobalRotScaleTrans')
    sample = pipeline[types.index('ObjectSample')]
    assert sample['use_ground_plane'] is True
    db = sample['db_sampler']
    assert dict(db['sample_groups']) == groups
    assert dict(db['prepare']['filter_by_min_points']) == dict(
        Car=5, Pedestrian=5, Cyclist=5)
    assert list(db['prepare']['filter_by_difficulty']) == [-1]
    assert db['info_path'] == 'data/kitti/kitti_dbinfos_train.pkl'
    assert set(db['classes']) == {'Car', 'Pedestrian', 'Cyclist'}
    flip = pipeline[types.index('RandomFlip3D')]
    assert flip['flip_ratio_bev_horizontal'] == 0.5
    grs = pipeline[types.index('GlobalRotScaleTrans')]
    assert list(grs['rot_range']) == pytest.approx([-0.78539816, 0.78539816])
    assert list(grs['scale_ratio_range']) == [0.95, 1.05]
    # the teachers train on KITTI `train`, whose frames have road planes
    ds = cfg.train_dataloader.dataset.dataset
    assert ds.type == 'KittiDataset' and ds.ann_file == 'kitti_infos_train.pkl'


@pytest.mark.parametrize('rel', SYN)
def test_synthetic_teachers_have_no_road_plane(rel):
    """The synthetic world has no plane files: no ground-plane sampling."""
    cfg = Config.fromfile(os.path.join(CFG, rel))
    for t in _train_pipeline(cfg):
        if t['type'] == 'ObjectSample':
            assert not t.get('use_ground_plane', False)


def test_second_teacher_assigner_thresholds():
    """AxisAlignedTargetAssigner of second_teacher.yaml: Car 0.6 / 0.45,
    Pedestrian and Cyclist 0.5 / 0.35 (class order Ped, Cyc, Car)."""
    cfg = Config.fromfile(os.path.join(CFG, SECOND))
    thr = [(a['pos_iou_thr'], a['neg_iou_thr'])
           for a in cfg.model.train_cfg.assigner]
    assert thr == [(0.5, 0.35), (0.5, 0.35), (0.6, 0.45)]
    # the reference's IoU target at every anchor (the head's default)
    assert cfg.model.bbox_head.get('qfl_target', 'best_gt') == 'best_gt'
