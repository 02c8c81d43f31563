# CMKD stage 1 with unlabeled data: as cmkd_bev_pointpillars-scatterconv_r50-as
# pp-lid120_2xb4-onecycle-60e_kitti-3d-3class but on KITTI train + eigen-clean
# KITTI raw (about 18.6k frames), 30 epochs, peak lr 0.002, BEV weight 32, no
# depth loss (no depth maps for the raw frames),
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-pp/cmkd_kitti_eigen_R50_pp_bev.yaml.
_base_ = [
    '../_base_/models/cmkd_pointpillars-scatterconv_r50-aspp-lid120_kitti.py',
    '../_base_/cmkd-stage1_kitti-eigen.py'
]

model = dict(
    student=dict(backbone=None, neck=None, bbox_head=None, loss_depth=None),
    loss_bev=dict(loss_weight=32.0))
