# CMKD stage 2 with unlabeled frames, synthetic world (CPU), online soft
# targets (the released code's V2,
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-pp/cmkd_kitti_eigen_R50_pp_V2.yaml):
# as the 4-epoch synkitti stage 2, but every batch holds
# 2 labeled + 2 unlabeled raw frames (MixedBatchSampler): the same 320 steps
# and labeled-frame schedule as the labeled-only stage 2, the raw frames on
# top. BEV, response and depth losses on every frame; the ground-truth
# losses (with_gt_loss) on the labeled frames only (raw frames carry
# has_labels=False).
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth \
#       model.stage1_ckpt=<stage 1>/epoch_4.pth
_base_ = [
    '../_base_/models/cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py',
    '../_base_/cmkd-stage2_synkitti-eigen.py'
]

model = dict(stage1_ckpt=None, init_bev_from_teacher=True, with_response=True,
             with_gt_loss=True)
