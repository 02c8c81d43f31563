# The light camera student on the synthetic Waymo world (CPU): the synthetic
# KITTI student (cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_
# synkitti-3d-3class.py) on the front camera at 320 x 480 and the Waymo
# grid (128 x 128 x 15 voxels of 0.4 m), with the synthetic Waymo
# PointPillars teacher's BEV backbone / neck / anchors, so that its weights
# load by name in stage 2 of the distillation. 8 epochs, peak lr 3e-3;
# evaluated with WaymoAPMetric (make waymo-env).
_base_ = [
    '../_base_/models/cmkd-mono3d_r18-aspp-lid40_secfpn-light_waymo.py',
    '../_base_/datasets/synwaymo-image-3class.py',
    '../_base_/schedules/onecycle-adamw_cpu-8e.py',
    '../_base_/cmkd_runtime_synkitti.py'
]
