# CMKD on the synthetic world (CPU): the PointPillars teacher of
# teachers/pointpillars/pointpillars_pillar032_secfpn_1xb4-cyclic-12e_
# synkitti-3d-3class (0.32 m pillars on the student's grid, so its BEV map
# coincides cell for cell with the student's as it is) and the light camera
# student of cmkd-mono3d_r18-aspp-lid40_secfpn-light.py (the same BEV
# backbone / neck / anchors); the data preprocessor (CMKD's default)
# normalises the student's images and makes the teacher's pillars as the
# teacher's config does. BEV loss weight 4, as the
# reference's KITTI-only pp config. Stage 1 configs drop the student's BEV
# backbone, neck and head; stage 2 ones add the response losses.
_base_ = ['./cmkd-mono3d_r18-aspp-lid40_secfpn-light.py', './cmkd_losses.py']

model = dict(
    _delete_=True,
    type='CMKD',
    # stage 2's response losses as the reference's pp config
    student=dict(
        _base_.model,
        bbox_head=dict(_base_.model.bbox_head,
                       **_base_.cmkd_resp_losses_pp)),
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/pointpillars/pointpillars_'
        'pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py'),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=4.0))
