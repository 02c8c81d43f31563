"""CMKDMono3D, the camera student: training and evaluating on the synthetic
world, bad inputs, depth targets of another stride, the centre-head
variant and the LiDAR depth oracle."""
import copy
import os

import numpy as np
import pytest
import torch
from _helpers.models import STUDENT_CFG, _registry
from conftest import REPO_ROOT


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


def test_depth_oracle_lifts_the_lidar_depth_not_the_prediction(
        synthetic_world):
    """depth_source='lidar': the BEV map is the lift of the one-hot LiDAR
    bins, whatever the depth network predicts; the default lifts the
    prediction."""
    MODELS = _registry()
    torch.manual_seed(0)
    cfg, batch = _student_batch(synthetic_world, [0], train=True)
    oracle = MODELS.build(dict(cfg.model, depth_source='lidar')).eval()
    data = oracle.data_preprocessor(batch, training=False)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        bev = oracle.extract_bev(inputs, samples)['bev']
        # what the lift gets by hand: probabilities 1 at the LiDAR bin
        out = oracle.img_backbone(inputs['imgs'])
        img, l2c, c2i, shape = oracle.camera_inputs(inputs, samples)
        cls = oracle.depth_bins.targets(samples[0].gt_depth[None].float())
        hot = torch.nn.functional.one_hot(cls, 41).permute(0, 3, 1, 2)
        by_hand = oracle.lift_neck(
            torch.log(hot.float().clamp_min(1e-30)), out['feats'], l2c, c2i,
            shape)
        assert (cls < 40).any() and (cls == 40).any()
        assert torch.allclose(bev, by_hand, atol=1e-5)
        # another depth prediction changes nothing
        oracle.img_backbone.depth_head[-1].weight.mul_(-3)
        assert torch.allclose(oracle.extract_bev(inputs, samples)['bev'], bev,
                              atol=1e-5)
        plain = MODELS.build(cfg.model).eval()
        plain.load_state_dict(oracle.state_dict())
        assert not torch.allclose(plain.extract_bev(inputs, samples)['bev'],
                                  bev, atol=1e-3)
    with pytest.raises(ValueError, match="depth_source.*'lidar'.*'gt'"):
        MODELS.build(dict(cfg.model, depth_source='gt'))
    # at test time the oracle needs the depth target, and says where
    _, val = _student_batch(synthetic_world, [0], 'kitti_infos_val.pkl',
                            train=False)
    vdata = oracle.data_preprocessor(val, training=False)
    with pytest.raises(KeyError, match="depth_source='lidar'.*test"):
        oracle(**vdata, mode='predict')


def _with_depth_source(world, depth_source):
    """The student (eval mode, seed 0) and its twin with the same weights
    and another ``depth_source``, with one preprocessed train frame."""
    MODELS = _registry()
    torch.manual_seed(0)
    cfg, batch = _student_batch(world, [0], train=True)
    plain = MODELS.build(cfg.model).eval()
    twin = MODELS.build(dict(cfg.model, depth_source=depth_source)).eval()
    twin.load_state_dict(plain.state_dict())
    data = plain.data_preprocessor(batch, training=False)
    return plain, twin, data['inputs'], data['data_samples']


def _image_branch(model, inputs, samples):
    """The depth network's outputs on the batch and the lift's camera
    arguments (l2c, c2i, img_shape)."""
    img, l2c, c2i, img_shape = model.camera_inputs(inputs, samples)
    return model.img_backbone(img), (l2c, c2i, img_shape)


def _box_oracle_setup(world, depth_source):
    """``_with_depth_source`` plus, without gradients, the plain model's
    image branch (``out``, ``cams``) and its box mask ``fg`` (M, Hf, Wf),
    checked to be neither empty nor full."""
    plain, twin, inputs, samples = _with_depth_source(world, depth_source)
    with torch.no_grad():
        out, cams = _image_branch(plain, inputs, samples)
        fg = plain.depth_foreground(inputs, samples,
                                    out['depth_logits'].shape[-2:],
                                    out['depth_logits'].device)
    assert 0 < fg.sum() < fg.numel()
    return plain, twin, inputs, samples, out, cams, fg


def _lift_one_hot_on(model, out, cams, mask, classes):
    """The lift of the depth logits with the one-hot of ``classes``
    (M, Hf, Wf) on the cells of ``mask``."""
    hot = torch.nn.functional.one_hot(classes, 41).permute(0, 3, 1, 2)
    mixed = torch.where(mask[:, None], (hot.float() - 1) * 1e4,
                        out['depth_logits'])
    return model.lift_neck(mixed, out['feats'], *cams)


def test_detached_depth_source_keeps_detection_gradients_off_the_depth_head(
        synthetic_world):
    """depth_source='predicted_detached' lifts the same BEV map as the
    default, but a loss on that map reaches the image features only, not
    the depth head; the default reaches both."""
    plain, detached, inputs, samples = _with_depth_source(
        synthetic_world, 'predicted_detached')
    grads = {}
    for name, model in (('plain', plain), ('detached', detached)):
        bev = model.extract_bev(inputs, samples)['bev']
        bev.square().sum().backward()
        grads[name] = (bev.detach(),
                       model.img_backbone.depth_head[-1].weight.grad,
                       model.img_backbone.reduce.conv.weight.grad)
    assert torch.allclose(grads['plain'][0], grads['detached'][0],
                          atol=1e-5)
    assert grads['plain'][1].abs().sum() > 0
    assert grads['detached'][1] is None or \
        grads['detached'][1].abs().sum() == 0
    assert grads['detached'][2].abs().sum() > 0


def test_argmax_depth_source_lifts_the_one_hot_of_the_predicted_argmax(
        synthetic_world):
    """depth_source='predicted_argmax' lifts exactly what the lift makes of
    the one-hot bins of the depth network's argmax (computed here from the
    plain model's logits), differs from the soft lift, and sends no
    gradient to the depth head through the lift."""
    plain, sharp, inputs, samples = _with_depth_source(
        synthetic_world, 'predicted_argmax')
    with torch.no_grad():
        out, cams = _image_branch(plain, inputs, samples)
        logits = out['depth_logits']
        hot = torch.zeros_like(logits).scatter_(
            1, logits.argmax(1, keepdim=True), 1.0)
        expected = plain.lift_neck((hot - 1) * 1e4, out['feats'], *cams)
        soft = plain.extract_bev(inputs, samples)['bev']
    bev = sharp.extract_bev(inputs, samples)['bev']
    assert torch.allclose(bev.detach(), expected, atol=1e-5)
    assert not torch.allclose(bev.detach(), soft, atol=1e-3)
    bev.square().sum().backward()
    grad = sharp.img_backbone.depth_head[-1].weight.grad
    assert grad is None or grad.abs().sum() == 0
    assert sharp.img_backbone.reduce.conv.weight.grad.abs().sum() > 0


def test_box_split_depth_oracles_lift_lidar_bins_on_one_side_of_the_boxes(
        synthetic_world):
    """depth_source='lidar_in_boxes' lifts the one-hot LiDAR bins on the
    cells inside the boxes' image boxes and the predicted logits elsewhere
    ('lidar_outside_boxes' the reverse), each exactly as the lift makes of
    that mixture built here; at test time the mask comes from the frame's
    eval_ann_info."""
    plain, inside, inputs, samples, out, cams, fg = _box_oracle_setup(
        synthetic_world, 'lidar_in_boxes')
    logits = out['depth_logits']
    with torch.no_grad():
        cls = plain.depth_bins.targets(samples[0].gt_depth[None].float())
        soft = plain.extract_bev(inputs, samples)['bev']
        for source, mask in (('lidar_in_boxes', fg),
                             ('lidar_outside_boxes', ~fg)):
            twin = inside if source == 'lidar_in_boxes' else \
                _with_depth_source(synthetic_world, source)[1]
            expected = _lift_one_hot_on(plain, out, cams, mask, cls)
            bev = twin.extract_bev(inputs, samples)['bev']
            assert torch.allclose(bev, expected, atol=1e-5), source
            assert not torch.allclose(bev, soft, atol=1e-3), source
        # a test frame has no gt_instances_3d: its eval_ann_info boxes mask
        _, val = _student_batch(synthetic_world, [0], 'kitti_infos_val.pkl',
                                train=False)
        vdata = plain.data_preprocessor(val, training=False)
        vs = vdata['data_samples']
        assert vs[0].eval_ann_info['gt_bboxes_3d'] is not None
        vfg = plain.depth_foreground(vdata['inputs'], vs, logits.shape[-2:],
                                     logits.device)
        assert vfg.any()


def test_box_depth_oracle_lifts_the_box_centres_bin_inside_the_boxes(
        synthetic_world):
    """depth_source='box_depth_in_boxes' lifts, on the cells inside the
    boxes' image boxes, the one-hot bin of a box centre's depth (computed
    here from the boxes and the frame's lidar2cam) and the predicted logits
    elsewhere."""
    plain, probe, inputs, samples, out, cams, fg = _box_oracle_setup(
        synthetic_world, 'box_depth_in_boxes')
    logits = out['depth_logits']
    with torch.no_grad():
        boxes = samples[0].gt_instances_3d.bboxes_3d
        centres = torch.cat([boxes.gravity_center,
                             torch.ones(len(boxes), 1)], 1)
        z = (cams[0][0].float() @ centres.T)[2]          # camera depth (m)
        allowed = set(plain.depth_bins.targets(z).tolist())
        bev = probe.extract_bev(inputs, samples)['bev']
        # the classes of the cells' box-centre depths (box_instance_maps):
        # those of the boxes, and the probe lifts them on the masked cells
        _, _, depth = plain.object_targets(inputs, samples,
                                           logits.shape[-2:], logits.device)
        cls = plain.depth_bins.targets(depth)
        assert set(cls[fg].tolist()) <= allowed
        assert len(set(cls[fg].tolist())) > 1      # several boxes, depths
        expected = _lift_one_hot_on(plain, out, cams, fg, cls)
        assert torch.allclose(bev, expected, atol=1e-5)
        soft = plain.extract_bev(inputs, samples)['bev']
        assert not torch.allclose(bev, soft, atol=1e-3)


def test_perturb_instance_depth_draws_one_relative_error_per_object():
    """One factor per object (distinct positive value), 0 kept, the factors'
    spread is rel_std; the detector refuses the noise without the oracle."""
    from cmkd_mmdet3d.models.detectors.cmkd_mono3d import \
        perturb_instance_depth
    depth = torch.zeros(2, 4, 5)
    depth[0, :2, :2] = 10.0
    depth[0, 2:, 3:] = 20.0
    depth[1, 1:3, 1:4] = 10.0                  # the same value, other map
    g = torch.Generator().manual_seed(0)
    out = perturb_instance_depth(depth, 0.1, generator=g)
    assert (out[depth == 0] == 0).all()
    ratios = [out[0, :2, :2] / 10, out[0, 2:, 3:] / 20, out[1, 1:3, 1:4] / 10]
    for r in ratios:
        assert torch.allclose(r, r.flatten()[0].expand_as(r))
    firsts = torch.stack([r.flatten()[0] for r in ratios])
    assert len(set(firsts.tolist())) == 3      # each object its own draw
    assert torch.equal(perturb_instance_depth(depth, 0.0), depth)
    # the spread over many objects (one cell each) is rel_std
    many = torch.arange(1, 4001, dtype=torch.float32).view(1, 40, 100)
    rel = perturb_instance_depth(many, 0.1, generator=g) / many - 1
    assert 0.09 < rel.std().item() < 0.11 and abs(rel.mean().item()) < 0.01
    from mmengine.config import Config
    MODELS = _registry()
    model = Config.fromfile(STUDENT_CFG).model
    for source, noise in (('predicted', 0.1), ('box_depth_in_boxes', -0.1)):
        with pytest.raises(ValueError, match='box_depth_noise'):
            MODELS.build(dict(model, depth_source=source,
                              box_depth_noise=noise))
    probe = MODELS.build(dict(model, depth_source='box_depth_in_boxes',
                              box_depth_noise=0.2))
    assert probe.box_depth_noise == 0.2


def test_foreground_weighted_depth_loss_masks_the_boxes_cells(
        synthetic_world):
    """DepthFocalLoss(fg_weight=13): the student masks the feature cells of
    the frame's boxes (cells a Car covers, not the whole image), and its
    depth loss is the balancer's mean over that mask."""
    from cmkd_mmdet3d.models.losses.depth_focal_loss import depth_focal_loss
    MODELS = _registry()
    torch.manual_seed(0)
    cfg, batch = _student_batch(synthetic_world, [0, 1], train=True)
    loss_depth = dict(cfg.model.loss_depth, fg_weight=13.0, bg_weight=1.0)
    model = MODELS.build(dict(cfg.model, loss_depth=loss_depth)).eval()
    data = model.data_preprocessor(batch, training=False)
    inputs, samples = data['inputs'], data['data_samples']
    logits = model.img_backbone(inputs['imgs'])['depth_logits']
    fg = model.depth_foreground(inputs, samples, logits.shape[-2:],
                                logits.device)
    assert fg.shape == (2, *logits.shape[-2:])
    for s, m in zip(samples, fg):
        n = len(s.gt_instances_3d.bboxes_3d)
        assert bool(m.any()) == (n > 0)
        assert m.float().mean() < 0.5
    assert fg.any()
    target = model.depth_targets(samples, logits.shape[-2:], logits.device)
    per_pixel = depth_focal_loss(logits, target)
    w = model.loss_depth.loss_weight
    expect = w * (13 * per_pixel[fg].sum() + per_pixel[~fg].sum()) / \
        fg.numel()
    got = model.depth_loss(logits, inputs, samples)
    assert got.item() == pytest.approx(expect.item(), rel=1e-5)


def test_object_depth_lifts_the_geometric_depth_on_object_cells(
        synthetic_world):
    """object_depth: with the object probability pinned at 0 the lift is
    the plain lift of the per-cell bins; pinned at 1, with constant image
    height h and size s, it lifts a Gaussian over the bins around
    z = f_y * s / h, computed here from the camera matrix; the loss adds
    loss_obj_*; and the option refuses a LiDAR depth source."""
    import math
    MODELS = _registry()
    torch.manual_seed(0)
    cfg, batch = _student_batch(synthetic_world, [0], train=True)
    obj_cfg = dict(type='ObjectDepthHead', in_channels=64, sigma=0.5)
    model = MODELS.build(dict(cfg.model, object_depth=obj_cfg))
    model.init_weights()
    model.eval()
    data = model.data_preprocessor(batch, training=False)
    inputs, samples = data['inputs'], data['data_samples']
    head = model.object_depth.out
    with torch.no_grad():
        out, (l2c, c2i, img_shape) = _image_branch(model, inputs, samples)
        logits = out['depth_logits']
        stride = img_shape[0] / logits.shape[-2]  # pixels per cell row
        assert 7 < stride <= 8
        head.weight.zero_()
        head.bias.copy_(torch.tensor([-1e4, 0.0, 0.0]))
        plain = model.lift_neck(logits, out['feats'], l2c, c2i, img_shape)
        bev = model.extract_bev(inputs, samples)['bev']
        assert torch.allclose(bev, plain, atol=1e-5)
        h_cells, size = 4.0, 1.5
        head.bias.copy_(torch.tensor([1e4, math.log(h_cells),
                                      math.log(size)]))
        z = float(c2i[0, 1, 1]) * size / (h_cells * stride)
        t = float(model.depth_bins.index(torch.tensor(z)))
        centres = torch.arange(40, dtype=torch.float32) + 0.5
        g = torch.exp(-(centres - t) ** 2 / (2 * 0.5 ** 2))
        g = torch.cat([g / g.sum(), torch.zeros(1)])
        sharp = g.clamp_min(1e-12).log().view(1, -1, 1, 1).expand_as(logits)
        expected = model.lift_neck(sharp.contiguous(), out['feats'], l2c,
                                   c2i, img_shape)
        bev = model.extract_bev(inputs, samples)['bev']
        assert torch.allclose(bev, expected, atol=1e-4)
        assert not torch.allclose(bev, plain, atol=1e-3)
    model.train()
    losses = model.loss(inputs, samples)
    for key in ('loss_obj_fg', 'loss_obj_height', 'loss_obj_size'):
        assert torch.isfinite(losses[key]) and losses[key] > 0, key
    losses['loss_obj_height'].backward()
    assert head.bias.grad[1].abs() > 0  # the height channel learns
    with pytest.raises(ValueError, match="object_depth needs depth_source"):
        MODELS.build(dict(cfg.model, object_depth=obj_cfg,
                          depth_source='lidar'))


PRETRAIN_CFG = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_depth-pretrain_1xb2-onecycle-3e_'
    'synkitti-eigen.py')


def test_depth_pretraining_trains_the_depth_network_alone(synthetic_world):
    from mmengine.config import Config
    MODELS = _registry()
    torch.manual_seed(0)
    cfg = Config.fromfile(PRETRAIN_CFG)
    assert cfg.model.bbox_head is None and cfg.val_dataloader is None
    model = MODELS.build(cfg.model)
    _, batch = _student_batch(synthetic_world, [0, 1])
    model.eval()                            # no dropout: comparable
    data = model.data_preprocessor(batch, training=True)

    def no_lift(*args, **kwargs):
        raise AssertionError('the lift ran during depth pre-training')

    model.lift_neck.forward = no_lift
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_depth'}
    # by hand: focal loss of the depth logits against the LID classes of
    # the packed depth targets
    logits = model.img_backbone(data['inputs']['imgs'])['depth_logits']
    target = model.depth_bins.targets(torch.stack(
        [s.gt_depth for s in data['data_samples']]))
    expected = model.loss_depth(logits, target)
    assert torch.allclose(losses['loss_depth'], expected)
    assert losses['loss_depth'].item() > 0
    losses['loss_depth'].backward()
    assert model.img_backbone.backbone.conv1.weight.grad.abs().sum() > 0


def test_student_depth_network_from_a_pretraining_checkpoint(tmp_path):
    from mmengine.config import Config
    MODELS = _registry()
    torch.manual_seed(0)
    pre = MODELS.build(Config.fromfile(PRETRAIN_CFG).model)
    with torch.no_grad():                  # away from any initialisation
        for p in pre.img_backbone.parameters():
            p.add_(0.25)
    state = pre.state_dict()
    path = str(tmp_path / 'epoch_3.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=3)), path)

    cfg = Config.fromfile(STUDENT_CFG)
    student = MODELS.build(dict(
        cfg.model, img_backbone=dict(cfg.model.img_backbone,
                                     pretrained=path)))
    student.init_weights()
    got = student.img_backbone.state_dict()
    assert set(got) == {k[len('img_backbone.'):] for k in state
                        if k.startswith('img_backbone.')}
    for k, v in got.items():
        assert torch.equal(v, state['img_backbone.' + k]), k
    # without `pretrained` the depth network starts elsewhere
    plain = MODELS.build(cfg.model)
    plain.init_weights()
    assert not torch.equal(plain.img_backbone.depth_head[1].weight,
                           got['depth_head.1.weight'])

    # a checkpoint that does not fit is refused, naming the file and keys
    del state['img_backbone.depth_head.1.weight']
    bad = str(tmp_path / 'short.pth')
    torch.save(dict(state_dict=state), bad)
    student = MODELS.build(dict(
        cfg.model, img_backbone=dict(cfg.model.img_backbone,
                                     pretrained=bad)))
    with pytest.raises(ValueError, match=r'short\.pth.*depth_head\.1'):
        student.init_weights()


def test_load_bev_detector_is_strict_per_part():
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(STUDENT_CFG)
    torch.manual_seed(0)
    src = MODELS.build(cfg.model)
    torch.manual_seed(1)
    dst = MODELS.build(cfg.model)
    states = {n: getattr(src, n).state_dict()
              for n in ('backbone', 'neck', 'bbox_head')}
    keys = dst.load_bev_detector(states, source='teacher.pth')
    assert len(keys) == sum(len(s) for s in states.values())
    for name, state in states.items():
        for k, v in getattr(dst, name).state_dict().items():
            assert torch.equal(v, state[k]), f'{name}.{k}'
    # the image branch is not touched
    assert not torch.equal(src.img_backbone.depth_head[1].weight,
                           dst.img_backbone.depth_head[1].weight)

    short = dict(states, bbox_head={k: v for k, v in states['bbox_head']
                                    .items() if k != 'conv_cls.weight'})
    with pytest.raises(ValueError, match=r"student bbox_head and bbox_head "
                       r"of teacher\.pth differ \(1 keys, e\.g\. "
                       r"\['conv_cls\.weight'\]"):
        dst.load_bev_detector(short, source='teacher.pth')
    wide = dict(states, neck={k: (torch.zeros(v.shape[0] + 1, *v.shape[1:])
                                  if k.endswith('weight') and v.dim() else v)
                              for k, v in states['neck'].items()})
    with pytest.raises(ValueError, match='student neck and neck of'):
        dst.load_bev_detector(wide, source='teacher.pth')
    with pytest.raises(ValueError, match="teacher.pth has no neck"):
        dst.load_bev_detector(dict(states, neck=None), source='teacher.pth')


# --------------------------------------------------------------------------
# several cameras per sample (the surround-view student)
# --------------------------------------------------------------------------
def test_surround_student_trains_and_predicts(nus_world):
    """The surround-view config on the synthetic nuScenes world: six views
    per sample reach the depth network as B * 6 images, the depth targets
    line up with them sample-major, one training step gives finite losses
    (depth + the six CenterHead tasks with velocity) and gradients, and
    prediction gives 9-DoF boxes."""
    from _helpers.models import SURROUND_STUDENT, surround_batch
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(SURROUND_STUDENT)
    root, _ = nus_world
    batch = surround_batch(cfg, root, [0, 1])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    data = model.data_preprocessor(batch, True)
    img, l2c, c2i, shape = model.camera_inputs(data['inputs'],
                                               data['data_samples'])
    assert img.shape == (2, 6, 3, 45, 80)
    assert l2c.shape == (2, 6, 4, 4) and c2i.shape == (2, 6, 3, 4)
    # the metainfo's matrices, camera by camera
    meta = data['data_samples'][1].metainfo
    np.testing.assert_allclose(l2c[1, 4].numpy(), meta['lidar2cam'][4],
                               atol=1e-5)
    target = model.depth_targets(data['data_samples'], (6, 10), 'cpu')
    assert target.shape == (12, 6, 10)
    d = data['data_samples'][1].gt_depth[2]
    seen = d[:6, :10] > 0
    assert seen.any()
    np.testing.assert_array_equal(
        target[8][seen].numpy(),
        model.depth_bins.targets(d[:6, :10][None])[0][seen].numpy())
    losses = model(**data, mode='loss')
    assert 'loss_depth' in losses and 'task5.loss_heatmap' in losses
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.img_backbone.backbone.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch, False), mode='predict')
    assert out[0].pred_instances_3d.bboxes_3d.tensor.shape[1] == 9


def test_surround_student_refuses_cameras_without_matrices(nus_world):
    """Six images with five lidar2cam matrices: refused, naming the key and
    both counts."""
    from _helpers.models import SURROUND_STUDENT, surround_batch
    from mmengine.config import Config
    MODELS = _registry()
    cfg = Config.fromfile(SURROUND_STUDENT)
    batch = surround_batch(cfg, nus_world[0], [0])
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(batch, True)
    sample = data['data_samples'][0]
    sample.set_metainfo(dict(lidar2cam=sample.metainfo['lidar2cam'][:5]))
    with pytest.raises(ValueError, match='lidar2cam .* 5 matrices for 6 '
                       'images'):
        model(**data, mode='loss')


def test_surround_student_trains_on_the_real_nuscenes_sample(tmp_path):
    """The surround-view config with data_root moved to mmdet3d's real
    nuScenes sample frame (its calibration of six 1600 x 900 cameras, its
    LiDAR sweeps and boxes; images at 1/8 scale here for CPU): depth
    targets from the real sweep in every view, and one training step with
    finite losses."""
    from _helpers.models import (SURROUND_STUDENT,
                                 nuscenes_sample_with_six_images,
                                 surround_batch)
    from mmengine.config import Config
    root = nuscenes_sample_with_six_images(tmp_path)
    if root is None:
        pytest.skip('mmdet3d sample data not present')
    MODELS = _registry()
    cfg = Config.fromfile(SURROUND_STUDENT)
    batch = surround_batch(cfg, root, [0], ann_file='nus_info.pkl',
                           scale=0.125)
    assert batch['inputs']['img'][0].shape == (6, 3, 112, 200)
    depth = batch['data_samples'][0].gt_depth
    assert depth.shape == (6, 14, 25)
    # the sample's sweep has 100 points: the views with depth are those its
    # points project into with the info's calibration (no BEV augmentation
    # changes that: points and cameras move together)
    from cmkd_mmdet3d.structures import points_in_fov
    from cmkd_mmdet3d.utils.safe_pickle import load_pickle_file
    info = load_pickle_file(os.path.join(root, 'nus_info.pkl'))
    info = info['data_list'][0]
    pts = np.fromfile(os.path.join(
        root, 'samples', 'LIDAR_TOP', info['lidar_points']['lidar_path']),
        dtype=np.float32).reshape(-1, 5)[:, :3]
    seen = [points_in_fov(pts, np.array(c['lidar2cam']),
                          np.array(c['cam2img']), (900, 1600)).any()
            for c in info['images'].values()]
    assert 0 < sum(seen) < 6
    assert ((depth > 0).flatten(1).any(1)).tolist() == seen
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    total = sum(losses.values())
    assert torch.isfinite(total) and len(losses) == 13
