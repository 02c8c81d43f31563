# The camera student small enough for CPU (the synthetic world): dilated
# ResNet-18 from scratch (no download), 40 LID bins, 32-channel features
# lifted into the same 140 x 188 x 10 grid as
# cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py, 64 BEV channels and 2 SCNet
# blocks, and the BEV backbone / neck / anchors of the synthetic PointPillars
# teacher (teachers/pointpillars/pointpillars_pillar032_secfpn_1xb4-cyclic-
# 12e_...), so that its weights load by name in stage 2 of the distillation.
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py']

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
