# The CMKD camera student for KITTI (SECOND / PointPillars teacher grid;
# Cc-Hy/CMKD tools/cfgs/kitti_models/CMKD/CMKD-scd/cmkd_kitti_R50_scd_bev.yaml
# and its siblings): DeepLabV3-ResNet-50 (output stride 8, COCO weights) +
# 120 LID bins over [2, 46.8] m + 1024 -> 64 reduction; lift into the
# 140 x 188 x 10 grid of 0.32 x 0.32 x 0.4 m voxels; collapse 640 -> 128;
# 4 SCNet blocks; SECOND [5, 5] / SECONDFPN; anchor head with CMKD's
# direction offsets and class-agnostic NMS.
_base_ = ['./cmkd-image-branches.py']

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
    backbone=dict(
        type='SECOND',
        in_channels=128,
        layer_nums=[5, 5],
        layer_strides=[1, 2],
        out_channels=[128, 256]),
    neck=dict(
        type='SECONDFPN',
        in_channels=[128, 256],
        upsample_strides=[1, 2],
        out_channels=[256, 256]),
    bbox_head=dict(
        type='CMKDAnchor3DHead',
        num_classes=3,
        in_channels=512,
        feat_channels=512,
        use_direction_classifier=True,
        anchor_generator=dict(
            type='Anchor3DRangeGenerator',
            ranges=[
                [2, -30.08, -0.6, 46.8, 30.08, -0.6],
                [2, -30.08, -0.6, 46.8, 30.08, -0.6],
                [2, -30.08, -1.78, 46.8, 30.08, -1.78],
            ],
            sizes=[[0.8, 0.6, 1.73], [1.76, 0.6, 1.73], [3.9, 1.6, 1.56]],
            rotations=[0, 1.57],
            reshape_out=False),
        diff_rad_by_sin=True,
        bbox_coder=dict(type='DeltaXYZWLHRBBoxCoder'),
        loss_cls=dict(
            type='mmdet.FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(
            type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=2.0),
        loss_dir=dict(
            type='mmdet.CrossEntropyLoss', use_sigmoid=False,
            loss_weight=0.2)),
    loss_depth=dict(type='DepthFocalLoss', alpha=0.25, gamma=2.0,
                    loss_weight=0.5),
    train_cfg=dict(
        assigner=[
            dict(  # Pedestrian
                type='Max3DIoUAssigner',
                iou_calculator=dict(type='mmdet3d.BboxOverlapsNearest3D'),
                pos_iou_thr=0.5, neg_iou_thr=0.35, min_pos_iou=0.35,
                ignore_iof_thr=-1),
            dict(  # Cyclist
                type='Max3DIoUAssigner',
                iou_calculator=dict(type='mmdet3d.BboxOverlapsNearest3D'),
                pos_iou_thr=0.5, neg_iou_thr=0.35, min_pos_iou=0.35,
                ignore_iof_thr=-1),
            dict(  # Car
                type='Max3DIoUAssigner',
                iou_calculator=dict(type='mmdet3d.BboxOverlapsNearest3D'),
                pos_iou_thr=0.6, neg_iou_thr=0.45, min_pos_iou=0.45,
                ignore_iof_thr=-1),
        ],
        allowed_border=0,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        use_rotate_nms=True,
        score_thr=0.1,
        nms_thr=0.01,
        nms_pre=4096,
        max_num=500))
