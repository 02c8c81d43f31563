# CMKD stage 2 on Waymo, SECOND teacher: the full student, BEV
# backbone / neck / head initialised from the teacher and the image branch
# from stage 1; BEV + response + depth losses (labels unused, as the
# reference). 6 epochs, 2 GPUs x 4, one-cycle AdamW peak 2e-4; evaluated
# with WaymoAPMetric. Not trained here (no GPU).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth \
#       model.stage1_ckpt=<stage-1 work_dir>/epoch_12.pth
_base_ = [
    '../_base_/models/cmkd_second-res-c64_r50-aspp-lid120_waymo.py',
    '../_base_/cmkd-stage2_waymo.py'
]

model = dict(stage1_ckpt=None, init_bev_from_teacher=True, with_response=True)
