"""The three teacher families: configs build, forward passes run on CPU, and
their BEV maps coincide with the CMKD student grids."""
import copy

import numpy as np
import pytest
import torch

from cmkd_mmdet3d.testing import kitti_lidar_batch
from _helpers.models import KITTI, SYN, build


# (channels, rows = y cells, cols = x cells) of the BEV map the student
# imitates (the reference's cmkd_kitti_R50_*_bev.yaml grids)
STUDENT_GRID = {
    'pointpillars': (64, 188, 140),   # synthetic: light pillar features
    'second': (128, 188, 140),
    'centerpoint': (256, 150, 112),
}


def bev_map(model, inputs):
    """The teacher's BEV map before its BEV backbone."""
    voxels = inputs['voxels']
    if hasattr(model, 'pts_voxel_encoder'):          # CenterPoint
        feats = model.pts_voxel_encoder(voxels['voxels'],
                                        voxels['num_points'],
                                        voxels['coors'])
        bsz = int(voxels['coors'][-1, 0]) + 1
        return model.pts_middle_encoder(feats, voxels['coors'], bsz)
    feats = model.voxel_encoder(voxels['voxels'], voxels['num_points'],
                                voxels['coors'])
    bsz = int(voxels['coors'][-1, 0]) + 1
    return model.middle_encoder(feats, voxels['coors'], bsz)


@pytest.mark.parametrize('family', ['pointpillars', 'second', 'centerpoint'])
def test_synthetic_teacher_forward_on_cpu(family, synthetic_world):
    if family != 'pointpillars':
        pytest.importorskip('spconv.pytorch')
    cfg, model = build(SYN[family])
    model.eval()
    pcr = cfg.point_cloud_range
    batch = kitti_lidar_batch(synthetic_world, pcr, [0, 1])
    with torch.no_grad():
        data = model.data_preprocessor(copy.deepcopy(batch), training=False)
        bev = bev_map(model, data['inputs'])
        assert tuple(bev.shape) == (2, ) + STUDENT_GRID[family]
        preds = model(**data, mode='predict')
        # deterministic on CPU: the same input gives the same BEV map and
        # boxes a second time (spconv's threaded CPU scatter-add did not)
        # (on a copy: mmdet3d's PillarFeatureNet(legacy=True) writes into
        # its input; our configs set legacy=False, as the reference)
        assert torch.equal(bev_map(model, copy.deepcopy(data)['inputs']), bev)
        again = model(**copy.deepcopy(data), mode='predict')
    for p, q in zip(preds, again):
        assert torch.equal(p.pred_instances_3d.bboxes_3d.tensor,
                           q.pred_instances_3d.bboxes_3d.tensor)
        assert torch.equal(p.pred_instances_3d.scores_3d,
                           q.pred_instances_3d.scores_3d)
    assert len(preds) == 2
    for p in preds:
        boxes = p.pred_instances_3d.bboxes_3d
        assert boxes.tensor.shape[1] == 7
        assert torch.isfinite(boxes.tensor).all()


def test_pointpillars_loss_decreases(synthetic_world):
    """A few AdamW steps on one fixed batch lower the teacher's loss."""
    torch.manual_seed(0)
    cfg, model = build(SYN['pointpillars'])
    batch = kitti_lidar_batch(synthetic_world, cfg.point_cloud_range, [0, 1])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    losses = []
    for _ in range(6):
        data = model.data_preprocessor(copy.deepcopy(batch), training=True)
        loss_dict = model(**data, mode='loss')
        loss, _ = model.parse_losses(loss_dict)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize('rel', KITTI)
def test_kitti_teacher_configs_build(rel):
    cfg, model = build(rel)
    assert cfg.custom_imports.imports == ['cmkd_mmdet3d']
    assert cfg.data_root == 'data/kitti/'
    n = sum(p.numel() for p in model.parameters())
    assert n > 1e6


NUS_TEACHER = ('centerpoint/centerpoint_voxel01_second_secfpn_head-'
               'circlenms_8xb4-cyclic-20e_nus-3d.py')


def test_nuscenes_teacher_has_the_surround_student_grid(tmp_path):
    """CMKD-MV's teacher, mmdet3d's config through ``mmdet3d::``: its BEV
    map is 256 x 128 x 128 cells of 0.8 m over [-51.2, 51.2] m, the cells
    of the surround-view student's grid (CMKD-MV: 0.8 m, z in [-5, 3]); it
    runs on the points of mmdet3d's nuScenes sample when present; a state
    dict of the model (as the model zoo's) loads strictly, and a file that
    lacks a key is refused naming it."""
    pytest.importorskip('spconv.pytorch')
    import os
    from conftest import SHARED_SAMPLES
    from cmkd_mmdet3d.models.detectors.teacher_utils import (
        build_frozen_teacher, load_teacher_checkpoint,
        teacher_bev_and_outputs, teacher_bev_grid)
    from cmkd_mmdet3d.structures.geometry import grid_size
    from mmdet3d.structures import Det3DDataSample
    cfg, model = build(NUS_TEACHER)
    assert cfg.custom_imports.imports == ['cmkd_mmdet3d']
    assert cfg.data_root == 'data/nuscenes/'
    voxel = cfg.model.data_preprocessor.voxel_layer.voxel_size
    grid = teacher_bev_grid(model, cfg.point_cloud_range, voxel)
    assert grid['shape'] == (256, 128, 128)
    assert grid['cell'] == pytest.approx((0.8, 0.8))
    assert grid['range'] == pytest.approx((-51.2, -51.2, 51.2, 51.2))
    assert grid['voxel_grid'] == grid['expected_voxel_grid'] == (1024, 1024)
    assert grid_size([-51.2, -51.2, -5.0, 51.2, 51.2, 3.0],
                     [0.8, 0.8, 0.8]) == (128, 128, 10)
    path = os.path.join(SHARED_SAMPLES, 'nuscenes', 'samples', 'LIDAR_TOP',
                        'n015-2018-08-02-17-16-37+0800__LIDAR_TOP__'
                        '1533201470948018.pcd.bin')
    teacher = model.eval()
    if os.path.exists(path):
        pts = np.fromfile(path, np.float32).reshape(-1, 5).copy()
        pts[:, 4] = 0                  # the key frame's time lag
        data = teacher.data_preprocessor(
            dict(inputs=dict(points=[torch.from_numpy(pts)]),
                 data_samples=[Det3DDataSample()]), False)
        bev, outs = teacher_bev_and_outputs(
            teacher, data['inputs']['voxels'], 1, with_head=True)
        assert tuple(bev.shape) == (1, 256, 128, 128)
        assert torch.isfinite(bev).all() and (bev != 0).any()
        assert len(outs) == 6          # one output per task
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    fresh = build_frozen_teacher(
        dict(cfg_path='mmdet3d::centerpoint/centerpoint_voxel01_second_'
             'secfpn_head-circlenms_8xb4-cyclic-20e_nus-3d.py'))
    load_teacher_checkpoint(fresh, ckpt)
    for (k, a), b in zip(teacher.state_dict().items(),
                         fresh.state_dict().values()):
        assert torch.equal(a, b), k
    state = teacher.state_dict()
    state.pop('pts_bbox_head.task_heads.0.heatmap.1.bias')
    torch.save(dict(state_dict=state), ckpt)
    with pytest.raises(ValueError, match=r'1 missing keys \[pts_bbox_head'
                       r'.task_heads.0.heatmap.1.bias\]'):
        load_teacher_checkpoint(fresh, ckpt)


SYN_NUS_TEACHER = ('centerpoint/centerpoint_pillar08_second_secfpn_head-'
                   'circlenms_1xb4-cyclic-4e_synnus-3d.py')


def test_synthetic_nuscenes_teacher_grid_and_heads():
    """The CPU CenterPoint teacher of the synthetic nuScenes world: pillars
    of 0.8 m make its BEV map 64 x 128 x 128 over [-51.2, 51.2] m, the
    cells of CMKD-MV's teacher map (the surround student's grid); its six
    task heads see the same 128 x 128 cells (out_size_factor 1), and the
    schedule is mmdet3d's cyclic one over 4 epochs (rising for 1.6)."""
    from cmkd_mmdet3d.models.detectors.teacher_utils import teacher_bev_grid
    cfg, model = build(SYN_NUS_TEACHER)
    assert cfg.data_root == 'data/synthetic_nus/'
    grid = teacher_bev_grid(model, cfg.point_cloud_range,
                            cfg.model.data_preprocessor.voxel_layer.voxel_size)
    assert grid['shape'] == (64, 128, 128)
    assert grid['cell'] == pytest.approx((0.8, 0.8))
    assert grid['range'] == pytest.approx((-51.2, -51.2, 51.2, 51.2))
    assert [t.type for t in cfg.train_pipeline].count('ObjectSample') == 0
    assert cfg.train_dataloader.dataset.type == 'CBGSDataset'
    model.eval()
    with torch.no_grad():
        feats = [torch.zeros(1, c, 128 >> i, 128 >> i)
                 for i, c in enumerate((32, 64, 128))]
        outs = model.pts_bbox_head(model.pts_neck(feats))
    assert len(outs) == 6
    assert outs[0][0]['heatmap'].shape == (1, 1, 128, 128)
    ends = [x for p in cfg.param_scheduler for x in (p.begin, p.end)]
    assert ends == pytest.approx([0, 1.6, 1.6, 4, 0, 1.6, 1.6, 4])
    assert cfg.train_cfg.max_epochs == 4


def test_synthetic_nuscenes_teacher_trains_on_the_real_nuscenes_sample():
    """The synthetic teacher's config with data_root moved to mmdet3d's
    real nuScenes sample frame (its nus_info.pkl, no sweeps): the train
    pipeline loads it as NuScenesDataset does, and one training step gives
    finite losses for the six tasks and finite gradients."""
    import os
    from conftest import SHARED_SAMPLES
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    root = os.path.join(SHARED_SAMPLES, 'nuscenes')
    if not os.path.exists(os.path.join(root, 'nus_info.pkl')):
        pytest.skip('mmdet3d sample data not present')
    cfg, model = build(SYN_NUS_TEACHER)
    inner = cfg.train_dataloader.dataset.dataset
    ds = DATASETS.build(dict(inner, data_root=root + '/',
                             ann_file='nus_info.pkl'))
    item = ds[0]
    assert item['inputs']['points'].shape[1] == 5   # x y z intensity lag
    assert len(item['data_samples'].gt_instances_3d) > 5
    model.init_weights()
    model.train()
    batch = pseudo_collate([item, ds[0]])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert len([k for k in losses if 'heatmap' in k]) == 6
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
