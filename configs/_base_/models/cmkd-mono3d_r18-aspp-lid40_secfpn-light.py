# The camera student small enough for CPU (the synthetic world): dilated
# ResNet-18 from scratch (no download), 40 LID bins, 32-channel features
# lifted into the same 140 x 188 x 10 grid as
# cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py, 64 BEV channels and 2 SCNet
# blocks, and the light BEV backbone / neck / head channels of
# cmkd-bev-parts_kitti.py with the anchors of the synthetic PointPillars
# teachers (pointpillars_light-secfpn_cpu.py), so that their weights load by
# name in stage 2 of the distillation.
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
    backbone=_base_.light_bev_backbone,
    neck=_base_.light_bev_neck,
    bbox_head=dict(
        **_base_.light_head_channels,
        # the synthetic PointPillars teacher's anchors
        anchor_generator=dict(type='AlignedAnchor3DRangeGenerator')),
    loss_depth=dict(loss_weight=1.0))
