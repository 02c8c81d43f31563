# CMKD-MV on the synthetic nuScenes world (CPU): the CPU CenterPoint teacher
# (teachers/centerpoint/centerpoint_pillar08_..._synnus-3d.py, frozen)
# teaches the surround-view student of
# cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40-6cam_..._synnus-3d.py in one stage
# with CMKD-MV's losses (_base_/models/cmkd-mv_losses.py): the BEV feature
# MSE against the teacher's scattered pillar map (64 x 128 x 128, the same
# 0.8 m cells), the heatmap and box responses, and the student's own
# ground-truth and depth losses. Train the teacher first, then
#   --cfg-options model.teacher_ckpt=work_dirs/nus_teacher/epoch_4.pth
_base_ = [
    '../cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40-6cam_pillar08-secfpn_head-'
    'center_1xb2-cyclic-8e_synnus-3d.py', '../_base_/models/cmkd-mv_losses.py'
]

student = _base_.model
model = dict(
    _base_.cmkd_mv_distiller,
    _delete_=True,
    student=dict(student,
                 bbox_head=dict(student.bbox_head,
                                **_base_.cmkd_mv_head_losses)),
    teacher=dict(cfg_path='cmkd_mmdet3d::teachers/centerpoint/centerpoint_'
                 'pillar08_second_secfpn_head-circlenms_1xb4-cyclic-4e_'
                 'synnus-3d.py'))
# data preprocessor: CMKD's default, the student's image normalisation and
# the teacher's pillars

train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=_base_.distill_train_pipeline)))
# the optimizer sees the student's parameters only (mmdet3d's AdamW and
# gradient clipping at 35 otherwise)
optim_wrapper = dict(constructor='TrainableOptimWrapperConstructor')
