# CMKD-MV on the synthetic nuScenes world (CPU): the CPU CenterPoint teacher
# (teachers/centerpoint/centerpoint_pillar08_..._synnus-3d.py, frozen)
# teaches the surround-view student of
# cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40-6cam_..._synnus-3d.py in one stage,
# as CMKD-MV (Cc-Hy/CMKD-MV, configs/cmkd/cmkd-bevdet-r50-10sweep.py and
# mmdet3d/models/detectors/bevdet.py):
# * BEV features: MSE x 50 between the student's SCNet output and the
#   teacher's scattered pillar map (64 x 128 x 128, the same 0.8 m cells);
# * responses, per task: the quality focal loss of the student's heatmap
#   against the teacher's probabilities, normalised by the batch's count of
#   teacher probabilities >= 0.5, x 0.2; SmoothL1 of each regression head
#   (reg, height, dim, rot, vel) against the teacher's, weighted by the
#   teacher's confidence at every cell, x 50;
# * the student's own ground-truth CenterHead losses and depth loss.
# CMKD-MV computes the QFL modulating factor on the student's logits and
# the confidence as sigmoid(sum of the task's logits); the correct forms
# are the default here; the reference's are
#   loss_resp_heatmap=dict(..., modulate_on_logits=True)
#   loss_resp_bbox=dict(..., teacher_weight='sigmoid_of_sum').
# Train the teacher first, then
#   --cfg-options model.teacher_ckpt=work_dirs/nus_teacher/epoch_4.pth
_base_ = [
    '../cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40-6cam_pillar08-secfpn_head-'
    'center_1xb2-cyclic-8e_synnus-3d.py'
]

teacher_cfg = ('cmkd_mmdet3d::teachers/centerpoint/centerpoint_pillar08_'
               'second_secfpn_head-circlenms_1xb4-cyclic-4e_synnus-3d.py')
student = _base_.model
model = dict(
    _delete_=True,
    type='CMKD',
    student=dict(
        student,
        bbox_head=dict(
            student.bbox_head,
            loss_resp_heatmap=dict(
                type='SoftHeatmapLoss', pos_thr=0.5, normalizer='batch',
                loss_weight=0.2),
            loss_resp_bbox=dict(
                type='SoftCenterRegressionLoss', pos_thr=None,
                loss_weight=50.0),
            resp_bbox_per_head=True)),
    teacher=dict(cfg_path=teacher_cfg),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=50.0),
    with_response=True,
    with_gt_loss=True,
    # the student's image normalisation, and the teacher's pillars
    data_preprocessor=dict(
        student.data_preprocessor,
        voxel=True,
        voxel_layer=dict(
            max_num_points=20,
            point_cloud_range=_base_.point_cloud_range,
            voxel_size=[0.8, 0.8, 8],
            max_voxels=(16384, 16384))))

train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=_base_.distill_train_pipeline)))
# the optimizer sees the student's parameters only (mmdet3d's AdamW and
# gradient clipping at 35 otherwise)
optim_wrapper = dict(constructor='TrainableOptimWrapperConstructor')
