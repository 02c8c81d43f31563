# CMKD stage 2, CenterPoint (one-task CenterHead, 0.05 m voxels) teacher, KITTI
# train (labels unused): the full student, BEV backbone / neck / head
# initialised from the teacher and the image branch from stage 1; BEV (weight
# 32.0) + response (heatmap 1.0, box maps 4 x 8 = 32) losses, no depth loss.
# 20 epochs, 2 GPUs x 4, one-cycle AdamW peak 0.0002
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/cmkd_kitti_R50_ctp_V2.yaml).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth \
#       model.stage1_ckpt=<stage-1 work_dir>/epoch_60.pth
_base_ = [
    '../_base_/models/cmkd_centerpoint-res_r50-head-center_kitti.py',
    '../_base_/cmkd-stage2_kitti.py'
]

# stage 2: the full student (without depth loss), initialised from the
# teacher and stage 1
model = dict(student=dict(loss_depth=None), stage1_ckpt=None,
             init_bev_from_teacher=True, with_response=True)
