# CMKD stage 2, SECOND (IoU-aware QFL head, 0.04 m voxels) teacher, KITTI train
# (labels unused): the full student, BEV backbone / neck / head initialised
# from the teacher and the image branch from stage 1; BEV (weight 32.0) +
# response (cls 2.0 x 4 samples = 8.0, box 2.0, direction 0.4) + depth (0.5)
# losses. 20 epochs, 2 GPUs x 4, one-cycle AdamW peak 0.0001 (spec Appendix A).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth \
#       model.stage1_ckpt=<stage-1 work_dir>/epoch_60.pth
_base_ = [
    '../cmkd_mono3d/'
    'cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_'
    'kitti-3d-3class.py'
]

teacher_cfg = ('cmkd_mmdet3d::teachers/'
               'second/second_res-c64_secfpn_head-iouqfl_8xb8-80e_kitti-3d-3'
               'class.py')
student_cfg = ('cmkd_mmdet3d::cmkd_mono3d/'
               'cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_kitti-3'
               'd-3class.py')

model = dict(
    _delete_=True,
    type='CMKD',
    student=dict(cfg_path=student_cfg,
                 loss_depth=dict(loss_weight=0.5),
                 bbox_head=dict(
                     loss_resp_cls=dict(type='SoftQualityFocalLoss',
                                        loss_weight=8.0),
                     loss_resp_bbox=dict(type='SoftBoxRegressionLoss',
                                         loss_weight=2.0),
                     loss_resp_dir=dict(type='SoftDirectionLoss',
                                        loss_weight=0.4))),
    teacher=dict(
        cfg_path=teacher_cfg,
        # rebuilt on the student's range: 0.04 m voxels -> 1120 x 1504
        middle_encoder=dict(sparse_shape=[41, 1504, 1120]),
        bbox_head=dict(anchor_generator=dict(
                ranges=[
                    [2, -30.08, -0.6, 46.8, 30.08, -0.6],
                    [2, -30.08, -0.6, 46.8, 30.08, -0.6],
                    [2, -30.08, -1.78, 46.8, 30.08, -1.78],
                ]))),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    stage1_ckpt=None,           # --cfg-options model.stage1_ckpt=...
    init_bev_from_teacher=True,
    with_response=True,
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
            point_cloud_range=[2, -30.08, -3, 46.8, 30.08, 1],
            voxel_size=[0.04, 0.04, 0.1],
            max_voxels=(16000, 40000))),
)

# 20 epochs of the one-cycle schedule (see _base_/schedules/onecycle-adamw-
# 60e.py; ratios, so only the lr differs between configs)
epochs = 20
optim_wrapper = dict(optimizer=dict(lr=0.00001))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min_ratio=10,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min_ratio=1e-3,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4,
         eta_min_ratio=0.85 / 0.95, begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6,
         eta_min_ratio=1.0, begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)

# the student's pipeline plus the LiDAR points of the same sample
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))
