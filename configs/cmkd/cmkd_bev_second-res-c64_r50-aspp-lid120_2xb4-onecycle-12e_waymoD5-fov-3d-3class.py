# CMKD stage 1 on Waymo, SECOND teacher: the student's image branch
# learns the teacher's BEV map (MSE 32.0) and the LiDAR depth (1.0); no BEV
# backbone / head. 12 epochs, 2 GPUs x 4, one-cycle AdamW peak 2e-3. Not
# trained here (no GPU).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth
_base_ = [
    '../_base_/models/cmkd_second-res-c64_r50-aspp-lid120_waymo.py',
    '../_base_/cmkd-stage1_waymo.py'
]

model = dict(student=dict(backbone=None, neck=None, bbox_head=None))
