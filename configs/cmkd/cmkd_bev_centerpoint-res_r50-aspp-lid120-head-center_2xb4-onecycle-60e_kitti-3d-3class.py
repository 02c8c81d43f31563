# CMKD stage 1, CenterPoint (one-task CenterHead, 0.05 m voxels) teacher, KITTI
# train (labels unused): the student's image branch learns the teacher's BEV
# map (MSE weight 32.0) and the LiDAR depth (focal loss weight 0.5); no BEV
# backbone / head. 60 epochs, 2 GPUs x 4, one-cycle AdamW peak 2e-3 (spec
# Appendix A).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth
_base_ = [
    '../cmkd_mono3d/'
    'cmkd-mono3d_r50-aspp-lid120_secfpn_head-center_'
    '2xb4-onecycle-60e_kitti-3d-3class.py'
]

teacher_cfg = ('cmkd_mmdet3d::teachers/'
               'centerpoint/centerpoint_res_secfpn_head-1task_8xb8-80e_kitti'
               '-3d-3class.py')
student_cfg = ('cmkd_mmdet3d::cmkd_mono3d/'
               'cmkd-mono3d_r50-aspp-lid120_secfpn_head-center_2xb4-onecycle'
               '-60e_kitti-3d-3class.py')

model = dict(
    _delete_=True,
    type='CMKD',
    student=dict(cfg_path=student_cfg, backbone=None, neck=None,
                 bbox_head=None,
                 loss_depth=dict(loss_weight=0.5)),
    teacher=dict(
        cfg_path=teacher_cfg,
        # rebuilt on the student's range: 0.05 m voxels -> 896 x 1200
        pts_middle_encoder=dict(sparse_shape=[41, 1200, 896]),
        pts_bbox_head=dict(bbox_coder=dict(
            post_center_range=[2, -30, -3, 46.8, 30, 1], pc_range=[2, -30])),
        train_cfg=dict(pts=dict(grid_size=[896, 1200, 41],
                                point_cloud_range=[2, -30, -3, 46.8, 30, 1])),
        test_cfg=dict(pts=dict(
            post_center_limit_range=[2, -30, -3, 46.8, 30, 1],
            pc_range=[2, -30]))),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=32.0),
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,
        # the teacher's voxelisation on the student's range
        voxel=True,
        voxel_layer=dict(
            max_num_points=5,
            point_cloud_range=[2, -30, -3, 46.8, 30, 1],
            voxel_size=[0.05, 0.05, 0.1],
            max_voxels=(16000, 40000))),
)
optim_wrapper = dict(optimizer=dict(lr=0.0002))

# stage 1 has no head: no validation
val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []

# the student's pipeline plus the LiDAR points of the same sample
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))
