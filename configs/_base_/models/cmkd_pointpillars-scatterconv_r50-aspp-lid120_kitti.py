# CMKD with the PointPillars teacher (scatter + stride-2 conv stem, 0.16 m
# pillars; teachers/pointpillars/pointpillars_hv-scatterconv_secfpn_8xb8-80e_
# kitti-3d-3class) and the R50 camera student of
# cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py: the teacher is rebuilt on the
# student's range (0.16 m pillars -> 280 x 376, the student's anchors), so
# that its 128-channel BEV map at 0.32 m coincides cell for cell with the
# student's; the data preprocessor (CMKD's default) normalises the student's
# images and makes the teacher's pillars on that range. BEV loss weight 4,
# depth loss weight 1.0. Stage 1
# configs drop the student's BEV backbone, neck and head; stage 2 ones add the
# response losses.
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py', './cmkd_losses.py']

model = dict(
    _delete_=True,
    type='CMKD',
    student=dict(
        _base_.model,
        loss_depth=dict(_base_.model.loss_depth, loss_weight=1.0),
        bbox_head=dict(
            _base_.model.bbox_head,
            # the teacher's anchors (stage 2 copies its weights)
            anchor_generator=dict(_base_.model.bbox_head.anchor_generator,
                                  type='AlignedAnchor3DRangeGenerator'),
            # stage 2's response losses as the reference's pp config
            **_base_.cmkd_resp_losses_pp)),
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/pointpillars/pointpillars_'
        'hv-scatterconv_secfpn_8xb8-80e_kitti-3d-3class.py',
        voxel_encoder=dict(point_cloud_range=_base_.grid_range),
        middle_encoder=dict(output_shape=[376, 280]),
        bbox_head=dict(anchor_generator=dict(
            ranges=_base_.model.bbox_head.anchor_generator.ranges)),
        data_preprocessor=dict(voxel_layer=dict(
            point_cloud_range=_base_.grid_range))),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=4.0))
