"""The camera student: depth focal loss, SCNet, depth network, lifting neck,
class-agnostic NMS, and the student detector training and evaluating on the
synthetic world."""
import copy
import math
import os

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT

STUDENT_CFG = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


def _registry():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    return MODELS


def test_depth_focal_loss_by_hand():
    from cmkd_mmdet3d.models.losses import DepthFocalLoss
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]]).t()
    logits = logits.reshape(1, 3, 1, 2)                 # 2 pixels, 3 classes
    target = torch.tensor([[[0, 2]]])
    losses = []
    for pix, k in ((0, 0), (1, 2)):
        z = logits[0, :, 0, pix].tolist()
        p = math.exp(z[k]) / sum(math.exp(v) for v in z)
        losses.append(-0.25 * (1 - p)**2 * math.log(p))
    loss = DepthFocalLoss(loss_weight=0.5)(logits, target)
    assert loss.item() == pytest.approx(0.5 * sum(losses) / 2, rel=1e-6)
    # a confident correct prediction costs (almost) nothing
    sure = torch.full((1, 3, 1, 1), -20.0)
    sure[0, 1] = 20.0
    assert DepthFocalLoss()(sure, torch.tensor([[[1]]])).item() < 1e-12
    with pytest.raises(ValueError, match='target'):
        DepthFocalLoss()(logits, target[0])


def test_sc_bottleneck_shape_and_residual():
    from cmkd_mmdet3d.models.layers import SCBottleneck
    block = SCBottleneck(16).eval()
    x = torch.randn(2, 16, 20, 28)
    y = block(x)
    assert y.shape == x.shape and (y >= 0).all()
    # zeroing the last BN makes the block ReLU(identity)
    torch.nn.init.zeros_(block.conv3[1].weight)
    assert torch.allclose(block(x), x.relu())


def test_depth_distribution_net_shapes_and_small_image():
    MODELS = _registry()
    net = MODELS.build(dict(
        type='DepthDistributionNet',
        backbone=dict(type='mmdet.ResNet', depth=18, strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), out_indices=(2, 3)),
        num_bins=10, feat_in_channels=256, deep_in_channels=512,
        feat_channels=8, aspp_channels=16, aspp_dilations=(2, 4, 6)))
    out = net(torch.randn(1, 3, 45, 70))
    assert out['depth_logits'].shape == (1, 11, 6, 9)     # ceil(45/8) ...
    assert out['feats'].shape == (1, 8, 6, 9)
    with pytest.raises(ValueError, match='smaller than the feature stride'):
        net(torch.randn(1, 3, 6, 70))


def _neck(**kw):
    MODELS = _registry()
    cfg = dict(type='DepthLiftNeck',
               point_cloud_range=[2, -30.08, -3, 46.8, 30.08, 1],
               voxel_size=[0.64, 0.64, 0.8], num_bins=12, depth_min=2.0,
               depth_max=46.8, in_channels=4, out_channels=8, num_blocks=1)
    cfg.update(kw)
    return MODELS.build(cfg)


def _calib(batch):
    from cmkd_mmdet3d.datasets.synthetic.geometry import calibration_for_date
    cal = calibration_for_date('2011_09_26')
    return (torch.tensor(cal.lidar2cam, dtype=torch.float32).expand(
        batch, 4, 4), torch.tensor(cal.cam2img, dtype=torch.float32).expand(
            batch, 4, 4))


def test_lift_neck_collapses_channel_major():
    from cmkd_mmdet3d.models.utils import lift_frustum_to_voxels
    neck = _neck().eval()
    assert neck.grid_size == (70, 94, 5) and neck.bev_shape == (8, 94, 70)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 13, 12, 39, generator=g)
    feats = torch.randn(2, 4, 12, 39, generator=g)
    l2c, c2i = _calib(2)
    bev = neck(logits, feats, l2c, c2i, (94, 310))
    assert bev.shape == (2, 8, 94, 70)
    # the collapse sees the voxels in channel-major order c * Z + z
    vox = lift_frustum_to_voxels(logits.softmax(1)[:, :12], feats, l2c, c2i,
                                 (94, 310), neck.point_cloud_range,
                                 neck.voxel_size, 2.0, 46.8)
    w = torch.zeros_like(neck.collapse.conv.weight)
    w[0, 2 * 5 + 3] = 1.0                       # channel 2, height 3
    with torch.no_grad():
        neck.collapse.conv.weight.copy_(w)
    collapsed = neck.collapse(vox.reshape(2, 20, 94, 70))
    bn = neck.collapse.bn
    expected = ((vox[:, 2, 3] - bn.running_mean[0]) /
                torch.sqrt(bn.running_var[0] + bn.eps) * bn.weight[0] +
                bn.bias[0]).relu()
    torch.testing.assert_close(collapsed[:, 0], expected)
    with pytest.raises(ValueError, match='num_bins \\+ 1 = 13'):
        neck(logits[:, :12], feats, l2c, c2i, (94, 310))


def test_class_agnostic_nms_across_classes():
    from cmkd_mmdet3d.models.dense_heads import class_agnostic_nms
    boxes = torch.tensor([[10.0, 0.0, 4.0, 2.0, 0.0],
                          [10.3, 0.1, 4.0, 2.0, 0.05],   # overlaps box 0
                          [20.0, 5.0, 4.0, 2.0, 0.0],
                          [30.0, 5.0, 4.0, 2.0, 0.0]])
    scores = torch.tensor([0.9, 0.95, 0.5, 0.05])
    keep = class_agnostic_nms(boxes, scores, 0.1, 0.01, 4096, 500)
    # box 1 suppresses box 0 whatever their classes; box 3 is below 0.1
    assert keep.tolist() == [1, 2]
    assert class_agnostic_nms(boxes, scores, 0.1, 0.01, 4096, 1).tolist() \
        == [1]
    assert len(class_agnostic_nms(boxes, scores, 0.99, 0.01, 10, 5)) == 0


def _student_batch(root, indices, ann_file='kitti_infos_train.pkl',
                   train=True):
    from mmdet3d.registry import DATASETS
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    _registry()
    cfg = Config.fromfile(STUDENT_CFG)
    pipeline = copy.deepcopy(cfg.train_pipeline if train else
                             cfg.test_pipeline)
    for t in pipeline:
        if t['type'] == 'ImageSpaceFlip3D':
            t['flip_ratio'] = 0.0
    ds = DATASETS.build(dict(
        type='KittiDataset', data_root=root.rstrip('/') + '/',
        ann_file=ann_file,
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=True), pipeline=pipeline,
        test_mode=not train,
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
    return cfg, pseudo_collate([ds[i] for i in indices])


def test_student_trains_and_evaluates_with_kitti_metric(synthetic_world):
    MODELS = _registry()
    torch.manual_seed(0)
    cfg, batch = _student_batch(synthetic_world, [0, 1])
    model = MODELS.build(cfg.model)
    model.train()
    data = model.data_preprocessor(batch, training=True)
    assert data['inputs']['imgs'].shape == (2, 3, 188, 621)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    totals = []
    for _ in range(6):
        losses = model(**data, mode='loss')
        total = sum(v.sum() if isinstance(v, torch.Tensor) else sum(v)
                    for v in losses.values())
        assert set(losses) >= {'loss_depth', 'loss_cls', 'loss_bbox',
                               'loss_dir'}
        opt.zero_grad()
        total.backward()
        opt.step()
        totals.append(total.item())
    assert all(np.isfinite(totals))
    assert totals[-1] < 0.9 * totals[0], totals

    # predictions in LiDAR coordinates that KittiMetric evaluates
    from mmdet3d.evaluation import KittiMetric
    _, val = _student_batch(synthetic_world, [0, 1], 'kitti_infos_val.pkl',
                            train=False)
    model.eval()
    model.bbox_head.test_cfg['score_thr'] = 0.0       # keep some boxes
    with torch.no_grad():
        vdata = model.data_preprocessor(val, training=False)
        preds = model(**vdata, mode='predict')
    assert len(preds) == 2
    for p in preds:
        inst = p.pred_instances_3d
        assert 0 < len(inst.scores_3d) <= 500
        assert type(inst.bboxes_3d).__name__ == 'LiDARInstance3DBoxes'
    metric = KittiMetric(
        ann_file=os.path.join(synthetic_world, 'kitti_infos_val.pkl'),
        metric='bbox')
    metric.dataset_meta = dict(classes=['Pedestrian', 'Cyclist', 'Car'])
    metric.process({}, [p.to_dict() for p in preds])
    res = metric.compute_metrics(metric.results)
    key = 'pred_instances_3d/KITTI/Car_3D_AP40_moderate_strict'
    assert key in res and 0.0 <= res[key] <= 100.0


def test_student_bad_inputs_fail_with_clear_errors(synthetic_world):
    MODELS = _registry()
    cfg, batch = _student_batch(synthetic_world, [0], train=False)
    model = MODELS.build(cfg.model).eval()
    data = model.data_preprocessor(batch, training=False)
    bad = copy.deepcopy(data)
    bad['data_samples'][0].set_metainfo(
        dict(lidar2cam=np.eye(4)[:3]))
    with pytest.raises(ValueError, match='lidar2cam of .*000000.png.*4x4'):
        model(**bad, mode='predict')
    small = dict(inputs=dict(imgs=data['inputs']['imgs'][..., :5, :]),
                 data_samples=data['data_samples'])
    with pytest.raises(ValueError, match='smaller than the feature stride'):
        model(**small, mode='predict')
    # a depth loss without depth targets names the missing step
    nodepth = copy.deepcopy(data)
    model.train()
    with pytest.raises(KeyError, match='MakeDepthTarget'):
        model(**nodepth, mode='loss')


def test_depth_target_of_another_stride_is_refused_by_the_student(
        synthetic_world):
    """A depth target made at stride 16 for a stride-8 network names both
    strides instead of being pasted into a corner of the feature map."""
    MODELS = _registry()
    cfg, batch = _student_batch(synthetic_world, [0], train=True)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(batch, training=True)
    s = data['data_samples'][0]
    assert s.metainfo['depth_stride'] == model.img_backbone.stride == 8
    hf, wf = s.gt_depth.shape
    targets = model.depth_targets([s], (hf, wf), 'cpu')
    assert targets.shape == (1, hf, wf)
    s.set_metainfo(dict(depth_stride=16))
    s.gt_depth = s.gt_depth[::2, ::2]
    with pytest.raises(ValueError, match=r'000000.png was made at stride 16'
                       r'.*predicts at stride 8'):
        model.depth_targets([s], (hf, wf), 'cpu')


def test_student_with_center_head_trains_and_predicts(synthetic_world):
    """The student with the CenterPoint teacher's BEV parts (SECOND /
    SECONDFPN / one-task CenterHead) on the teacher's 0.4 m grid."""
    from mmengine.config import Config
    MODELS = _registry()
    torch.manual_seed(0)
    cfg, batch = _student_batch(synthetic_world, [0, 1])
    teacher = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'centerpoint',
        'centerpoint_res_secfpn_head-1task_1xb4-cyclic-12e_synkitti-3d-'
        '3class.py')).model
    ctp_range = teacher.train_cfg.pts.point_cloud_range
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('bbox_head')
    model_cfg.update(
        lift_neck=dict(model_cfg.lift_neck, point_cloud_range=ctp_range,
                       voxel_size=[0.4, 0.4, 0.4],
                       out_channels=teacher.pts_backbone.in_channels),
        backbone=teacher.pts_backbone,
        neck=teacher.pts_neck,
        bbox_head=teacher.pts_bbox_head,
        train_cfg=teacher.train_cfg.pts,
        test_cfg=teacher.test_cfg.pts)
    model = MODELS.build(model_cfg)
    assert model.lift_neck.bev_shape == (teacher.pts_backbone.in_channels,
                                         150, 112)
    model.train()
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert 'loss_depth' in losses and 'task0.loss_heatmap' in losses
    total = sum(v for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.img_backbone.reduce.conv.weight.grad.abs().sum() > 0
    model.eval()
    model.bbox_head.test_cfg['score_threshold'] = 0.0
    with torch.no_grad():
        preds = model(**data, mode='predict')
    boxes = preds[0].pred_instances_3d.bboxes_3d
    assert type(boxes).__name__ == 'LiDARInstance3DBoxes' and len(boxes) > 0
    c = boxes.gravity_center
    assert (c[:, 0] >= 2 - 1e-3).all() and (c[:, 0] <= 46.8 + 1e-3).all()


def test_center_head_targets_without_velocity():
    """CMKDCenterHead's regression target of one box, by hand."""
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmengine.config import Config
    from mmengine.structures import InstanceData
    MODELS = _registry()
    teacher = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'centerpoint',
        'centerpoint_res_secfpn_head-1task_1xb4-cyclic-12e_synkitti-3d-'
        '3class.py')).model
    head = MODELS.build(dict(teacher.pts_bbox_head,
                             train_cfg=teacher.train_cfg.pts,
                             test_cfg=teacher.test_cfg.pts))
    box = torch.tensor([[20.3, -4.1, -1.6, 3.9, 1.6, 1.5, 0.3]])
    inst = InstanceData(bboxes_3d=LiDARInstance3DBoxes(box),
                        labels_3d=torch.tensor([2]))
    heatmaps, anno, inds, masks = head.get_targets_single(inst)
    assert anno[0].shape[1] == 8 and masks[0].sum() == 1
    # cell: (x - x0) / (0.05 * 4) = 91.5 -> 91; (y - y0) / 0.2 = 129.5
    cx, cy = (20.3 - 2) / 0.2, (-4.1 + 30) / 0.2
    expected = [cx - int(cx), cy - int(cy), -1.6 + 0.75, math.log(3.9),
                math.log(1.6), math.log(1.5), math.sin(0.3), math.cos(0.3)]
    np.testing.assert_allclose(anno[0][0].tolist(), expected, atol=1e-4)
    assert inds[0][0].item() == int(cy) * 224 + int(cx)
    assert heatmaps[0][2, int(cy), int(cx)] == 1.0


def test_one_depth_bins_object_shared_and_checked_at_build():
    """The depth-bin settings are built once (``CMKDMono3D.depth_bins``)
    and shared by the depth network (number of logits), the lift neck and
    the depth targets; settings that disagree are refused at build time."""
    from mmengine.config import Config

    from cmkd_mmdet3d.models.utils import DepthBins, bin_depths
    MODELS = _registry()
    cfg = Config.fromfile(STUDENT_CFG).model
    model = MODELS.build(cfg)
    bins = model.depth_bins
    assert isinstance(bins, DepthBins)
    assert model.img_backbone.depth_bins is bins
    assert model.lift_neck.depth_bins is bins
    neck = cfg.lift_neck
    assert bins == DepthBins(neck.mode, neck.depth_min, neck.depth_max,
                             neck.num_bins)
    assert model.img_backbone.depth_head[-1].out_channels == \
        bins.num_classes == neck.num_bins + 1
    d = torch.tensor([1.0, 2.0, 10.0, 46.7, 50.0, 0.0])
    assert torch.equal(bins.targets(d), bin_depths(
        d, neck.mode, neck.depth_min, neck.depth_max, neck.num_bins,
        target=True))
    assert len(bins.centres()) == bins.num_bins
    # the same settings given once at the student level
    alone = MODELS.build(dict(
        cfg, depth_bins=bins.as_dict(),
        lift_neck={k: v for k, v in neck.items()
                   if k not in bins.as_dict()},
        img_backbone={k: v for k, v in cfg.img_backbone.items()
                      if k != 'num_bins'}))
    assert alone.depth_bins == bins
    with pytest.raises(ValueError, match=r'img_backbone predicts 12 bins, '
                       r'lift_neck expects 40'):
        MODELS.build(
            dict(cfg, img_backbone=dict(cfg.img_backbone, num_bins=12)))
    with pytest.raises(ValueError, match=r'lift_neck.depth_max \(46.8\) '
                       r'differs from depth_bins.depth_max \(40.0\)'):
        MODELS.build(dict(cfg, depth_bins=dict(bins.as_dict(),
                                               depth_max=40.0)))
    with pytest.raises(ValueError, match=r'DepthLiftNeck: depth_min \(50.0\)'
                       r' must be below depth_max'):
        MODELS.build(dict(cfg, lift_neck=dict(neck, depth_min=50.0)))
    with pytest.raises(ValueError, match=r"the depth bins need \['depth_max'"):
        DepthBins.build(dict(depth_min=2.0, num_bins=4))
