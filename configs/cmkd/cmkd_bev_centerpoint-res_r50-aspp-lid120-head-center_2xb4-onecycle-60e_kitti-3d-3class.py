# CMKD stage 1, CenterPoint (one-task CenterHead, 0.05 m voxels) teacher, KITTI
# train (labels unused): the student's image branch learns the teacher's BEV
# map (MSE weight 32.0) and the LiDAR depth (focal loss weight 0.5); no BEV
# backbone / head. 60 epochs, 2 GPUs x 4, one-cycle AdamW peak 2e-3 (
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/cmkd_kitti_R50_ctp_bev.yaml).
#
#   bash tools/dist_train.sh configs/cmkd/<this config> 2 \
#       --cfg-options model.teacher_ckpt=<teacher>.pth
_base_ = [
    '../_base_/models/cmkd_centerpoint-res_r50-head-center_kitti.py',
    '../_base_/cmkd-stage1_kitti.py'
]

# stage 1: the student without BEV backbone, neck and head
model = dict(student=dict(backbone=None, neck=None, bbox_head=None))
