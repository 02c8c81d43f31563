# CMKD-MV on nuScenes (Cc-Hy/CMKD-MV, configs/cmkd/cmkd-bevdet-r50-10sweep.py;
# its README: BEVDet-R50 30.7 mAP / 38.2 NDS alone, 34.7 / 42.6 distilled,
# nuScenes val, not measured here): mmdet3d's CenterPoint (0.1 m voxels, 10
# sweeps; teachers/centerpoint/centerpoint_voxel01_..._nus-3d.py), frozen,
# from mmdet3d's model-zoo checkpoint by path, teaches the surround-view
# student of cmkd_mono3d/cmkd-mono3d_r50-aspp-ud59-6cam_..._nus-3d.py in one
# 24-epoch stage with CMKD-MV's losses (_base_/models/cmkd-mv_losses.py):
# the BEV MSE against the teacher's SparseEncoder map (256 x 128 x 128,
# 0.8 m cells), the heatmap and box responses, and the student's own
# ground-truth and depth losses.
#   --cfg-options model.teacher_ckpt=checkpoints/centerpoint_01voxel_second_\
#   secfpn_circlenms_4x8_cyclic_20e_nus_20220810_030004-9061688e.pth
_base_ = [
    '../cmkd_mono3d/cmkd-mono3d_r50-aspp-ud59-6cam_second-secfpn_head-'
    'center_8xb4-cyclic-24e_nus-3d.py', '../_base_/models/cmkd-mv_losses.py'
]

student = _base_.model
model = dict(
    _base_.cmkd_mv_distiller,
    _delete_=True,
    student=dict(student,
                 bbox_head=dict(student.bbox_head,
                                **_base_.cmkd_mv_head_losses)),
    teacher=dict(cfg_path='cmkd_mmdet3d::teachers/centerpoint/centerpoint_'
                 'voxel01_second_secfpn_head-circlenms_8xb4-cyclic-20e_'
                 'nus-3d.py'))
# data preprocessor: CMKD's default, the student's image normalisation and
# the teacher's voxels

train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=_base_.distill_train_pipeline)))
optim_wrapper = dict(constructor='TrainableOptimWrapperConstructor')
