# CMKD with the SECOND teacher (IoU-aware QFL head, 0.04 m voxels;
# teachers/second/second_res-c64_secfpn_head-iouqfl_8xb8-80e_kitti-3d-3class)
# and the R50 camera student of cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py:
# the teacher is rebuilt on the student's range (0.04 m voxels -> 1120 x 1504,
# the student's anchors), so that its 128-channel BEV map at 0.32 m
# coincides cell for cell with the student's; the data preprocessor (CMKD's
# default) normalises the student's images and voxelises the points as the
# teacher on that range (at most 16000 voxels in training there).
# BEV loss weight 32. Stage 1 configs drop the student's BEV backbone, neck
# and head; stage 2 ones add the response losses.
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py', './cmkd_losses.py']

model = dict(
    _delete_=True,
    type='CMKD',
    # stage 2's response losses as the reference's scd config
    student=dict(
        _base_.model,
        bbox_head=dict(_base_.model.bbox_head,
                       **_base_.cmkd_resp_losses_scd)),
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/second/second_res-c64_secfpn_'
        'head-iouqfl_8xb8-80e_kitti-3d-3class.py',
        middle_encoder=dict(sparse_shape=[41, 1504, 1120]),
        bbox_head=dict(anchor_generator=dict(
            ranges=_base_.model.bbox_head.anchor_generator.ranges)),
        data_preprocessor=dict(voxel_layer=dict(
            point_cloud_range=_base_.grid_range, max_voxels=(16000, 40000)))),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=32.0))
