# CMKD with the CenterPoint teacher (one-task CenterHead, 0.05 m voxels;
# teachers/centerpoint/centerpoint_res_secfpn_head-1task_8xb8-80e_kitti-3d-
# 3class) and the "ctp" camera student of
# cmkd-mono3d_r50-aspp-lid120_secfpn_head-center_kitti.py: the teacher is
# rebuilt on the student's range [2, 46.8] x [-30, 30] (0.05 m voxels ->
# 896 x 1200), so that its 256-channel BEV map at 0.4 m coincides cell for
# cell with the student's; the data preprocessor (CMKD's default) normalises
# the student's images and voxelises the points as the teacher on that
# range. BEV loss weight 32.
# Stage 1 configs drop the student's BEV backbone, neck and head; stage 2
# ones turn the response losses on (the CenterHead's own weights).
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_head-center_kitti.py']

ctp_range = _base_.ctp_range
model = dict(
    _delete_=True,
    type='CMKD',
    student=_base_.model,
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/centerpoint/centerpoint_res_'
        'secfpn_head-1task_8xb8-80e_kitti-3d-3class.py',
        pts_middle_encoder=dict(sparse_shape=[41, 1200, 896]),
        pts_bbox_head=dict(bbox_coder=dict(
            post_center_range=ctp_range, pc_range=ctp_range[:2])),
        train_cfg=dict(pts=dict(grid_size=[896, 1200, 41],
                                point_cloud_range=ctp_range)),
        test_cfg=dict(pts=dict(post_center_limit_range=ctp_range,
                               pc_range=ctp_range[:2])),
        data_preprocessor=dict(voxel_layer=dict(point_cloud_range=ctp_range))),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=32.0))
