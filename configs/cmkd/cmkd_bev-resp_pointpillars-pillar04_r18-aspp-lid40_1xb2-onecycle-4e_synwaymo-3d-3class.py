# CMKD stage 2 on the synthetic Waymo world (CPU), as its synthetic KITTI
# twin (cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-
# 4e_synkitti-3d-3class.py): the full student, its BEV backbone / neck /
# head initialised from the teacher and its image branch from stage 1, BEV +
# response + depth + ground-truth losses; evaluated on the student alone
# with WaymoAPMetric.
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth \
#       model.stage1_ckpt=<stage 1>/epoch_4.pth
_base_ = [
    '../_base_/models/cmkd_pointpillars-pillar04_r18-aspp-lid40_synwaymo.py',
    '../_base_/cmkd-stage2_synwaymo.py'
]

model = dict(stage1_ckpt=None, init_bev_from_teacher=True, with_response=True,
             with_gt_loss=True)
