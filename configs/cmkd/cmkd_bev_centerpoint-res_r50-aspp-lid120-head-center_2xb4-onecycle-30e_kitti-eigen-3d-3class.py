# CMKD stage 1 with unlabeled data: as cmkd_bev_centerpoint-res_r50-aspp-lid120
# -head-center_2xb4-onecycle-60e_kitti-3d-3class but on KITTI train +
# eigen-clean KITTI raw (about 18.6k frames), 30 epochs, peak lr 0.002, BEV
# weight 32, no depth loss (no depth maps for the raw frames),
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/cmkd_kitti_eigen_R50_ctp_bev.yaml.
_base_ = [
    '../_base_/models/cmkd_centerpoint-res_r50-head-center_kitti.py',
    '../_base_/cmkd-stage1_kitti-eigen.py'
]

model = dict(
    student=dict(backbone=None, neck=None, bbox_head=None, loss_depth=None))
