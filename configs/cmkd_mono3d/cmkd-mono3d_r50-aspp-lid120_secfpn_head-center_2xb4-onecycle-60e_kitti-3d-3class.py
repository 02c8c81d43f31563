# The camera student with the CenterPoint teacher's grid and BEV parts (the
# reference's cmkd_kitti_R50_ctp_bev.yaml): range [2, 46.8] x [-30, 30], 0.4 m voxels (112 x 150 x 10),
# collapse 640 -> 256, 4 SCNet blocks at 256, SECOND [5] / SECONDFPN up 2 and
# a one-task CenterHead at 0.2 m (224 x 300), class-agnostic rotated NMS.
# Alone: the no-KD baseline of the ctp family; trained as the R50 student
# (cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_kitti-3d-3class.py).
_base_ = [
    '../_base_/models/cmkd-mono3d_r50-aspp-lid120_secfpn_head-center_kitti.py',
    '../_base_/datasets/kitti-image-3class.py',
    '../_base_/schedules/onecycle-adamw.py',
    '../_base_/cmkd_runtime_kitti.py'
]
