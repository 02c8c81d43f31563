# CMKD's SECOND teacher
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-scd/second_teacher.yaml):
# MeanVFE, a residual sparse encoder
# with 64 channels in its last stage (VoxelResBackBone8x_c64) whose height
# compression gives the 128-channel BEV map that the student imitates, SECOND
# [5, 5] / SECONDFPN, and the IoU-aware quality-focal classification head.
_base_ = ['mmdet3d::_base_/models/second_hv_secfpn_kitti.py']

second_range = [0, -40, -3, 70.4, 40, 1]
voxel_size = [0.04, 0.04, 0.1]

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(
            max_num_points=5,
            point_cloud_range=second_range,
            voxel_size=voxel_size,
            max_voxels=(20000, 40000))),
    voxel_encoder=dict(type='HardSimpleVFE', num_features=4),
    middle_encoder=dict(
        type='SparseEncoder',
        in_channels=4,
        sparse_shape=[41, 2000, 1760],
        output_channels=64,       # x 2 heights = 128 BEV channels
        order=('conv', 'norm', 'act'),
        encoder_channels=((16, 16, 32), (32, 32, 64), (64, 64, 64), (64, 64)),
        encoder_paddings=((0, 0, 1), (0, 0, 1), (0, 0, [0, 1, 1]), (0, 0)),
        block_type='basicblock'),
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
        type='IoUAwareAnchor3DHead',
        num_classes=3,
        in_channels=512,
        feat_channels=512,
        use_direction_classifier=True,
        # CMKD's direction bins: offset pi/4, limit offset 0
        dir_offset=0.78539,
        dir_limit_offset=0,
        anchor_generator=dict(
            type='Anchor3DRangeGenerator',
            ranges=[
                [0, -40.0, -0.6, 70.4, 40.0, -0.6],
                [0, -40.0, -0.6, 70.4, 40.0, -0.6],
                [0, -40.0, -1.78, 70.4, 40.0, -1.78],
            ],
            sizes=[[0.8, 0.6, 1.73], [1.76, 0.6, 1.73], [3.9, 1.6, 1.56]],
            rotations=[0, 1.57],
            reshape_out=False),
        loss_cls=dict(
            _delete_=True,
            type='mmdet.QualityFocalLoss',
            use_sigmoid=True,
            beta=2.0,
            loss_weight=8.0),
        loss_bbox=dict(
            type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=2.0),
        loss_dir=dict(
            type='mmdet.CrossEntropyLoss', use_sigmoid=False,
            loss_weight=0.2)),
    # the reference's AxisAlignedTargetAssigner thresholds (nearest BEV IoU):
    # Pedestrian / Cyclist 0.5 / 0.35, Car 0.6 / 0.45 (mmdet3d's SECOND base
    # uses 0.35 / 0.2 for the small classes)
    train_cfg=dict(
        _delete_=True,
        assigner=[
            dict(  # for Pedestrian
                type='Max3DIoUAssigner',
                iou_calculator=dict(type='BboxOverlapsNearest3D'),
                pos_iou_thr=0.5,
                neg_iou_thr=0.35,
                min_pos_iou=0.35,
                ignore_iof_thr=-1),
            dict(  # for Cyclist
                type='Max3DIoUAssigner',
                iou_calculator=dict(type='BboxOverlapsNearest3D'),
                pos_iou_thr=0.5,
                neg_iou_thr=0.35,
                min_pos_iou=0.35,
                ignore_iof_thr=-1),
            dict(  # for Car
                type='Max3DIoUAssigner',
                iou_calculator=dict(type='BboxOverlapsNearest3D'),
                pos_iou_thr=0.6,
                neg_iou_thr=0.45,
                min_pos_iou=0.45,
                ignore_iof_thr=-1),
        ],
        allowed_border=0,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        use_rotate_nms=True,
        nms_across_levels=False,
        nms_thr=0.01,
        score_thr=0.1,
        min_bbox_size=0,
        nms_pre=4096,
        max_num=500))
