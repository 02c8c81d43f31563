# CMKD stage 2, PointPillars (scatter + stride-2 conv stem, 0.16 m pillars)
# teacher, KITTI train (labels unused): the full student, BEV backbone / neck /
# head initialised from the teacher and the image branch from stage 1; BEV
# (weight 4.0) + response (cls 1.0 x 4 samples = 4.0, box 2.0, direction 0.2) +
# depth (1.0) losses. 20 epochs, 2 GPUs x 4, one-cycle AdamW peak 0.0002 (
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-pp/cmkd_kitti_R50_pp_V2.yaml).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth \
#       model.stage1_ckpt=<stage-1 work_dir>/epoch_60.pth
_base_ = [
    '../_base_/models/cmkd_pointpillars-scatterconv_r50-aspp-lid120_kitti.py',
    '../_base_/cmkd-stage2_kitti.py'
]

# stage 2: the full student, initialised from the teacher and stage 1
model = dict(stage1_ckpt=None, init_bev_from_teacher=True, with_response=True)
