# CMKD stage 1 on the synthetic world (CPU): the student's image branch
# (depth network, lift, collapse, SCNet) learns the PointPillars teacher's
# BEV map (MSE, weight 4 as the reference's KITTI-only pp config) plus the
# depth loss (weight 1.0). No BEV backbone / head. 4 epochs; stage 2 adds 4
# more, the same steps as the 8-epoch student-only baseline.
#
#   mim train cmkd_mmdet3d <this config> \
#       --cfg-options model.teacher_ckpt=work_dirs/<teacher>/epoch_12.pth
_base_ = [
    '../_base_/models/cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py',
    '../_base_/cmkd-stage1_synkitti.py'
]

# stage 1: the student without BEV backbone, neck and head
model = dict(student=dict(backbone=None, neck=None, bbox_head=None),
             with_response=False)
