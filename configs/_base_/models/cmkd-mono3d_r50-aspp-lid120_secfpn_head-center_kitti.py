# The CMKD camera student with the CenterPoint teacher's grid and BEV parts
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/cmkd_kitti_R50_ctp_bev.yaml):
# cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py on the range
# [2, 46.8] x [-30, 30] with 0.4 m voxels (112 x 150 x 10), collapse
# 640 -> 256, 4 SCNet blocks at 256, SECOND [5] / SECONDFPN up 2 and a
# one-task CenterHead at 0.2 m (224 x 300), class-agnostic rotated NMS: the
# BEV backbone / neck / head of centerpoint_res_secfpn_head-1task_kitti.py.
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py']

ctp_range = [2, -30, -3, 46.8, 30, 1]
model = dict(
    lift_neck=dict(point_cloud_range=ctp_range, voxel_size=[0.4, 0.4, 0.4],
                   out_channels=256),
    backbone=dict(
        _delete_=True,
        type='SECOND',
        in_channels=256,
        out_channels=[128],
        layer_nums=[5],
        layer_strides=[1],
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        conv_cfg=dict(type='Conv2d', bias=False)),
    neck=dict(
        _delete_=True,
        type='SECONDFPN',
        in_channels=[128],
        out_channels=[256],
        upsample_strides=[2],
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        upsample_cfg=dict(type='deconv', bias=False),
        use_conv_for_no_stride=True),
    bbox_head=dict(
        _delete_=True,
        type='CMKDCenterHead',
        in_channels=256,
        tasks=[dict(num_class=3,
                    class_names=['Pedestrian', 'Cyclist', 'Car'])],
        common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2)),
        share_conv_channel=64,
        bbox_coder=dict(
            type='CenterPointBBoxCoder',
            post_center_range=ctp_range,
            max_num=500,
            score_threshold=0.1,
            out_size_factor=4,
            voxel_size=[0.05, 0.05],
            code_size=7,
            pc_range=ctp_range[:2]),
        separate_head=dict(
            type='SeparateHead', init_bias=-2.19, final_kernel=3),
        loss_cls=dict(type='mmdet.GaussianFocalLoss', reduction='mean'),
        loss_bbox=dict(
            type='mmdet.L1Loss', reduction='mean', loss_weight=2.0),
        norm_bbox=True),
    train_cfg=dict(
        _delete_=True,
        grid_size=[896, 1200, 40],
        voxel_size=[0.05, 0.05, 0.1],
        out_size_factor=4,
        dense_reg=1,
        gaussian_overlap=0.1,
        max_objs=500,
        min_radius=2,
        code_weights=[1.0] * 8,
        point_cloud_range=ctp_range),
    test_cfg=dict(
        _delete_=True,
        post_center_limit_range=ctp_range,
        max_per_img=500,
        max_pool_nms=False,
        min_radius=[4, 12, 10, 1, 0.85, 0.175],
        score_threshold=0.1,
        pc_range=ctp_range[:2],
        out_size_factor=4,
        voxel_size=[0.05, 0.05],
        nms_type='rotate',
        pre_max_size=4096,
        post_max_size=500,
        nms_thr=0.01))
