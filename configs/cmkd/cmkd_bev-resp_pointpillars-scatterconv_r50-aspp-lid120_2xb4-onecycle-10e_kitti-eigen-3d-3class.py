# CMKD stage 2 with unlabeled data: as cmkd_bev-resp_pointpillars-scatterconv_r
# 50-aspp-lid120_2xb4-onecycle-20e_kitti-3d-3class but on KITTI train +
# eigen-clean KITTI raw (about 18.6k frames), 10 epochs, peak lr 0.0002, BEV
# weight 32, no depth loss (no depth maps for the raw frames),
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-pp/cmkd_kitti_eigen_R50_pp_V2.yaml.
_base_ = [
    '../_base_/models/cmkd_pointpillars-scatterconv_r50-aspp-lid120_kitti.py',
    '../_base_/cmkd-stage2_kitti-eigen.py'
]

model = dict(student=dict(loss_depth=None), loss_bev=dict(loss_weight=32.0),
             stage1_ckpt=None, init_bev_from_teacher=True,
             with_response=True)
