# The BEV parts that CMKD's KITTI teachers share with their camera students:
# a student has its teacher's BEV backbone, neck and head (Cc-Hy/CMKD:
# tools/cfgs/kitti_models/CMKD/CMKD-scd/cmkd_kitti_R50_scd_bev.yaml against
# second_teacher.yaml, CMKD-ctp/cmkd_kitti_R50_ctp_bev.yaml against
# centerpoint_teacher.yaml), and stage 2 starts the student's from the
# teacher's weights. The grid-dependent values (ranges, anchors, grid sizes)
# stay with each model.
#
# The sparse teachers' voxel encoding (SECOND and CenterPoint families): the
# mean of the x, y, z, intensity of a voxel's points (the reference's
# MeanVFE), then a residual sparse encoder (the reference's
# VoxelResBackBone8x; each model sets its last stages' channels, whose
# height compression x 2 heights gives its BEV channels, and its grid).
sparse_voxel_encoder = dict(type='HardSimpleVFE', num_features=4)
res_sparse_encoder = dict(
    type='SparseEncoder',
    in_channels=4,
    order=('conv', 'norm', 'act'),
    encoder_paddings=((0, 0, 1), (0, 0, 1), (0, 0, [0, 1, 1]), (0, 0)),
    block_type='basicblock')

# SECOND and PointPillars families: SECOND [5, 5] / SECONDFPN on the
# 128-channel BEV map, and the reference's AxisAlignedTargetAssigner
# thresholds (nearest BEV IoU; Pedestrian / Cyclist 0.5 / 0.35, Car
# 0.6 / 0.45; mmdet3d's SECOND base uses 0.35 / 0.2 for the small classes).
# The anchor head's shared settings: two rotations of one anchor size per
# class on the class's ground height (LiDAR z of the anchors' centres;
# ranges are ``[x0, y0, z, x1, y1, z] for z in anchor_z`` on each model's
# grid), the box and direction losses.
anchor_z = (-0.6, -0.6, -1.78)  # Pedestrian, Cyclist, Car
anchor_head = dict(
    num_classes=3,
    in_channels=512,
    feat_channels=512,
    use_direction_classifier=True,
    anchor_generator=dict(
        type='Anchor3DRangeGenerator',
        sizes=[[0.8, 0.6, 1.73], [1.76, 0.6, 1.73], [3.9, 1.6, 1.56]],
        rotations=[0, 1.57],
        reshape_out=False),
    loss_bbox=dict(
        type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=2.0),
    loss_dir=dict(
        type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=0.2))
anchor_bev_backbone = dict(
    type='SECOND',
    in_channels=128,
    layer_nums=[5, 5],
    layer_strides=[1, 2],
    out_channels=[128, 256])
anchor_bev_neck = dict(
    type='SECONDFPN',
    in_channels=[128, 256],
    upsample_strides=[1, 2],
    out_channels=[256, 256])
# The synthetic worlds' light variant (CPU): SECOND [2, 3] / SECONDFPN on a
# 64-channel BEV map, a 128-channel anchor head (the light student of
# cmkd-mono3d_r18-aspp-lid40_secfpn-light.py and the teachers of
# pointpillars_light-secfpn_cpu.py).
light_bev_backbone = dict(
    anchor_bev_backbone, in_channels=64, layer_nums=[2, 3],
    out_channels=[32, 64])
light_bev_neck = dict(anchor_bev_neck, in_channels=[32, 64],
                      out_channels=[64, 64])
light_head_channels = dict(in_channels=128, feat_channels=128)
anchor_assigners = [
    dict(type='Max3DIoUAssigner',
         iou_calculator=dict(type='BboxOverlapsNearest3D'),
         pos_iou_thr=thr[0], neg_iou_thr=thr[1], min_pos_iou=thr[1],
         ignore_iof_thr=-1)
    # Pedestrian, Cyclist, Car
    for thr in ((0.5, 0.35), (0.5, 0.35), (0.6, 0.45))
]
anchor_train_cfg = dict(
    assigner=anchor_assigners, allowed_border=0, pos_weight=-1, debug=False)

# CenterPoint family: SECOND [5] / SECONDFPN up 2 on the 256-channel BEV
# map, a one-task CenterHead of the three KITTI classes without velocity
# (mmdet3d's needs 9-DoF boxes) on a 0.05 m voxel grid, output stride 4;
# each model adds its range (bbox_coder post_center_range / pc_range,
# train_cfg grid_size / point_cloud_range, test_cfg
# post_center_limit_range / pc_range).
center_bn = dict(type='BN', eps=1e-3, momentum=0.01)
center_bev_backbone = dict(
    type='SECOND',
    in_channels=256,
    out_channels=[128],
    layer_nums=[5],
    layer_strides=[1],
    norm_cfg=center_bn,
    conv_cfg=dict(type='Conv2d', bias=False))
center_bev_neck = dict(
    type='SECONDFPN',
    in_channels=[128],
    out_channels=[256],
    upsample_strides=[2],
    norm_cfg=center_bn,
    upsample_cfg=dict(type='deconv', bias=False),
    use_conv_for_no_stride=True)
center_bbox_coder = dict(
    type='CenterPointBBoxCoder',
    max_num=500,
    score_threshold=0.1,
    out_size_factor=4,
    voxel_size=[0.05, 0.05],
    code_size=7)
center_head = dict(
    type='CMKDCenterHead',
    in_channels=256,
    tasks=[dict(num_class=3, class_names=['Pedestrian', 'Cyclist', 'Car'])],
    common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2)),
    share_conv_channel=64,
    separate_head=dict(type='SeparateHead', init_bias=-2.19, final_kernel=3),
    loss_cls=dict(type='mmdet.GaussianFocalLoss', reduction='mean'),
    loss_bbox=dict(type='mmdet.L1Loss', reduction='mean', loss_weight=2.0),
    norm_bbox=True)
center_train_cfg = dict(
    voxel_size=[0.05, 0.05, 0.1],
    out_size_factor=4,
    dense_reg=1,
    gaussian_overlap=0.1,
    max_objs=500,
    min_radius=2,
    code_weights=[1.0] * 8)
center_test_cfg = dict(
    max_per_img=500,
    max_pool_nms=False,
    min_radius=[4, 12, 10, 1, 0.85, 0.175],
    score_threshold=0.1,
    out_size_factor=4,
    voxel_size=[0.05, 0.05],
    nms_type='rotate',
    pre_max_size=4096,
    post_max_size=500,
    nms_thr=0.01)
