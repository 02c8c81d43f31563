# The CMKD camera student for KITTI (SECOND / PointPillars teacher grid;
# Cc-Hy/CMKD tools/cfgs/kitti_models/CMKD/CMKD-scd/cmkd_kitti_R50_scd_bev.yaml
# and its siblings): DeepLabV3-ResNet-50 (output stride 8, COCO weights) +
# 120 LID bins over [2, 46.8] m + 1024 -> 64 reduction; lift into the
# 140 x 188 x 10 grid of 0.32 x 0.32 x 0.4 m voxels; collapse 640 -> 128;
# 4 SCNet blocks; SECOND [5, 5] / SECONDFPN; anchor head with CMKD's
# direction offsets and class-agnostic NMS.
_base_ = ['./cmkd-image-branches.py', './cmkd-bev-parts_kitti.py']

grid_range = [2, -30.08, -3, 46.8, 30.08, 1]
grid_voxel_size = [0.32, 0.32, 0.4]
depth_cfg = dict(num_bins=120, depth_min=2.0, depth_max=46.8, mode='LID')

model = dict(
    type='CMKDMono3D',
    data_preprocessor=_base_.cmkd_img_data_preprocessor,
    img_backbone=dict(_base_.cmkd_r50_img_backbone,
                      num_bins=depth_cfg['num_bins']),
    lift_neck=dict(
        type='DepthLiftNeck',
        point_cloud_range=grid_range,
        voxel_size=grid_voxel_size,
        align='caddn',
        in_channels=64,
        out_channels=128,
        num_blocks=4,
        **depth_cfg),
    backbone=_base_.anchor_bev_backbone,
    neck=_base_.anchor_bev_neck,
    bbox_head=dict(
        _base_.anchor_head,
        type='CMKDAnchor3DHead',
        anchor_generator=dict(
            _base_.anchor_head.anchor_generator,
            ranges=[[2, -30.08, z, 46.8, 30.08, z]
                    for z in _base_.anchor_z]),
        diff_rad_by_sin=True,
        bbox_coder=dict(type='DeltaXYZWLHRBBoxCoder'),
        loss_cls=dict(
            type='mmdet.FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0)),
    loss_depth=dict(type='DepthFocalLoss', alpha=0.25, gamma=2.0,
                    loss_weight=0.5),
    train_cfg=_base_.anchor_train_cfg,
    test_cfg=dict(
        use_rotate_nms=True,
        score_thr=0.1,
        nms_thr=0.01,
        nms_pre=4096,
        max_num=500))
