# CMKD stage 1 on the synthetic world (CPU): the student's image branch
# (depth network, lift, collapse, SCNet) learns the PointPillars teacher's
# BEV map (MSE, weight 4 as the reference's KITTI-only pp config) plus the
# depth loss (weight 1.0). No BEV backbone / head. 4 epochs; stage 2 adds 4
# more, the same steps as the 8-epoch student-only baseline.
#
#   mim train cmkd_mmdet3d <this config> \
#       --cfg-options model.teacher_ckpt=work_dirs/<teacher>/epoch_12.pth
_base_ = [
    '../cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-'
    '8e_synkitti-3d-3class.py'
]

teacher_cfg = ('cmkd_mmdet3d::teachers/pointpillars/pointpillars_pillar032_'
               'secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')
student_cfg = ('cmkd_mmdet3d::cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40_secfpn-'
               'light_1xb2-onecycle-8e_synkitti-3d-3class.py')
epochs = 4
lr = 0.003

model = dict(
    _delete_=True,
    type='CMKD',
    # the student without BEV backbone, neck and head
    student=dict(cfg_path=student_cfg, backbone=None, neck=None,
                 bbox_head=None),
    teacher=dict(cfg_path=teacher_cfg),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=4.0),
    with_response=False,
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,
        # the teacher's voxelisation (pointpillars_pillar032 config)
        voxel=True,
        voxel_layer=dict(
            max_num_points=32,
            point_cloud_range=[2, -30.08, -3, 46.8, 30.08, 1],
            voxel_size=[0.32, 0.32, 4],
            max_voxels=(12000, 20000))))

# the frozen teacher never enters the optimizer
optim_wrapper = dict(
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(lr=lr / 10))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min=lr,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min=lr * 1e-4,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4, eta_min=0.85,
         begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6, eta_min=0.95,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
# no head yet: nothing to evaluate in stage 1
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []

# the student's pipeline plus the points of the same sample for the teacher
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))
