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
    backbone=dict(_base_.center_bev_backbone, _delete_=True),
    neck=dict(_base_.center_bev_neck, _delete_=True),
    bbox_head=dict(
        _base_.center_head,
        _delete_=True,
        bbox_coder=dict(_base_.center_bbox_coder,
                        post_center_range=ctp_range,
                        pc_range=ctp_range[:2])),
    train_cfg=dict(_base_.center_train_cfg,
                   _delete_=True,
                   grid_size=[896, 1200, 40],
                   point_cloud_range=ctp_range),
    test_cfg=dict(_base_.center_test_cfg,
                  _delete_=True,
                  post_center_limit_range=ctp_range,
                  pc_range=ctp_range[:2]))
