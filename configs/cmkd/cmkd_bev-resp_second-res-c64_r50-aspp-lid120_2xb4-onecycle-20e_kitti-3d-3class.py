# CMKD stage 2, SECOND (IoU-aware QFL head, 0.04 m voxels) teacher, KITTI train
# (labels unused): the full student, BEV backbone / neck / head initialised
# from the teacher and the image branch from stage 1; BEV (weight 32.0) +
# response (cls 2.0 x 4 samples = 8.0, box 2.0, direction 0.4) + depth (0.5)
# losses. 20 epochs, 2 GPUs x 4, one-cycle AdamW peak 0.0001
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-scd/cmkd_kitti_R50_scd_V2.yaml).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth \
#       model.stage1_ckpt=<stage-1 work_dir>/epoch_60.pth
_base_ = [
    '../_base_/models/cmkd_second-res-c64_r50-aspp-lid120_kitti.py',
    '../_base_/cmkd-stage2_kitti.py'
]

# stage 2: the full student, initialised from the teacher and stage 1
model = dict(stage1_ckpt=None, init_bev_from_teacher=True, with_response=True)
optim_wrapper = dict(optimizer=dict(lr=0.00001))
