# CMKD's CenterPoint teacher
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/centerpoint_teacher.yaml):
# a residual sparse encoder
# (VoxelResBackBone8x) whose height compression gives the 256-channel BEV map
# that the student imitates, SECOND [5] / SECONDFPN up 2, and a CenterHead
# with one task of the three KITTI classes and no velocity.
ctp_range = [0, -40, -3, 70.4, 40, 1]
ctp_voxel_size = [0.05, 0.05, 0.1]
ctp_classes = ['Pedestrian', 'Cyclist', 'Car']

model = dict(
    type='CenterPoint',
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        voxel=True,
        voxel_layer=dict(
            max_num_points=5,
            point_cloud_range=ctp_range,
            voxel_size=ctp_voxel_size,
            max_voxels=(16000, 40000))),
    pts_voxel_encoder=dict(type='HardSimpleVFE', num_features=4),
    pts_middle_encoder=dict(
        type='SparseEncoder',
        in_channels=4,
        sparse_shape=[41, 1600, 1408],
        output_channels=128,      # x 2 heights = 256 BEV channels
        order=('conv', 'norm', 'act'),
        encoder_channels=((16, 16, 32), (32, 32, 64), (64, 64, 128),
                          (128, 128)),
        encoder_paddings=((0, 0, 1), (0, 0, 1), (0, 0, [0, 1, 1]), (0, 0)),
        block_type='basicblock'),
    pts_backbone=dict(
        type='SECOND',
        in_channels=256,
        out_channels=[128],
        layer_nums=[5],
        layer_strides=[1],
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        conv_cfg=dict(type='Conv2d', bias=False)),
    pts_neck=dict(
        type='SECONDFPN',
        in_channels=[128],
        out_channels=[256],
        upsample_strides=[2],
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        upsample_cfg=dict(type='deconv', bias=False),
        use_conv_for_no_stride=True),
    pts_bbox_head=dict(
        # CenterHead without velocity (mmdet3d's needs 9-DoF boxes)
        type='CMKDCenterHead',
        in_channels=256,
        tasks=[dict(num_class=3, class_names=ctp_classes)],
        common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2)),
        share_conv_channel=64,
        bbox_coder=dict(
            type='CenterPointBBoxCoder',
            post_center_range=ctp_range,
            max_num=500,
            score_threshold=0.1,
            out_size_factor=4,
            voxel_size=ctp_voxel_size[:2],
            code_size=7,
            pc_range=ctp_range[:2]),
        separate_head=dict(
            type='SeparateHead', init_bias=-2.19, final_kernel=3),
        loss_cls=dict(type='mmdet.GaussianFocalLoss', reduction='mean'),
        loss_bbox=dict(
            type='mmdet.L1Loss', reduction='mean', loss_weight=2.0),
        norm_bbox=True),
    train_cfg=dict(
        pts=dict(
            grid_size=[1408, 1600, 41],
            voxel_size=ctp_voxel_size,
            out_size_factor=4,
            dense_reg=1,
            gaussian_overlap=0.1,
            max_objs=500,
            min_radius=2,
            code_weights=[1.0] * 8,
            point_cloud_range=ctp_range)),
    test_cfg=dict(
        pts=dict(
            post_center_limit_range=ctp_range,
            max_per_img=500,
            max_pool_nms=False,
            min_radius=[4, 12, 10, 1, 0.85, 0.175],
            score_threshold=0.1,
            pc_range=ctp_range[:2],
            out_size_factor=4,
            voxel_size=ctp_voxel_size[:2],
            nms_type='rotate',
            pre_max_size=4096,
            post_max_size=500,
            nms_thr=0.01)))
