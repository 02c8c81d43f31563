# CMKD stage 1 on the synthetic Waymo world (CPU), as its synthetic KITTI
# twin (cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_
# synkitti-3d-3class.py): the student's image branch learns the PointPillars
# teacher's BEV map plus the depth loss; no BEV backbone / head.
#
#   mim train cmkd_mmdet3d <this config> \
#       --cfg-options model.teacher_ckpt=work_dirs/<teacher>/epoch_12.pth
_base_ = [
    '../_base_/models/cmkd_pointpillars-pillar04_r18-aspp-lid40_synwaymo.py',
    '../_base_/cmkd-stage1_synwaymo.py'
]

model = dict(student=dict(backbone=None, neck=None, bbox_head=None),
             with_response=False)
