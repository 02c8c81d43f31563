# The camera student on the synthetic world, small enough for CPU: half
# resolution (188 x 621, features 24 x 78), dilated ResNet-18 from scratch
# (no download), 40 LID bins, 32-channel features lifted into the same
# 140 x 188 x 10 grid, 64 BEV channels and 2 SCNet blocks, and the BEV
# backbone / neck / anchors of the synthetic PointPillars teacher
# (teachers/pointpillars/pointpillars_pillar032_secfpn_1xb4-cyclic-12e_...),
# so that its weights load by name in stage 2 of the distillation.
_base_ = [
    '../_base_/models/cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py',
    '../_base_/datasets/synkitti-image-3class.py',
    '../_base_/schedules/onecycle-adamw-60e.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)

epochs = 8
num_bins = 40
model = dict(
    img_backbone=dict(
        # mmdet's dilation (every block of a stage alike), as before
        backbone=dict(depth=18, torchvision_dilation=False, init_cfg=None),
        num_bins=num_bins,
        feat_in_channels=256,
        deep_in_channels=512,
        feat_channels=32,
        aspp_channels=64,
        aspp_dilations=(4, 8, 12)),
    lift_neck=dict(
        num_bins=num_bins, in_channels=32, out_channels=64, num_blocks=2),
    backbone=dict(
        in_channels=64,
        layer_nums=[2, 3],
        layer_strides=[1, 2],
        out_channels=[32, 64]),
    neck=dict(
        in_channels=[32, 64], upsample_strides=[1, 2], out_channels=[64, 64]),
    bbox_head=dict(
        in_channels=128,
        feat_channels=128,
        # the synthetic PointPillars teacher's anchors
        anchor_generator=dict(type='AlignedAnchor3DRangeGenerator')),
    loss_depth=dict(loss_weight=1.0))

optim_wrapper = dict(optimizer=dict(lr=0.003 / 10))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min=0.003,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min=0.003 * 1e-4,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4, eta_min=0.85,
         begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6, eta_min=0.95,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=2)
custom_hooks = [
    dict(type='PredictionVisHook', max_samples=6, score_thr=0.2,
         draw_val=True)
]
