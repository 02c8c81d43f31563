# CMKD SECOND teacher on Waymo: the KITTI SECOND teacher
# (second_res-c64_secfpn_head-iouqfl_8xb8-80e_kitti-3d-3class.py) on the
# reference author's Waymo range (Cc-Hy/CMKD#12) with 0.05 x 0.05 x 0.15 m
# voxels (models/second_res-c64_secfpn_head-iouqfl_waymo.py says why 0.15 m
# in height), so its 128-channel BEV map at 0.4 m coincides with the
# student's; front-camera points and boxes, one frame in five, evaluated with
# WaymoAPMetric; the CMKD teachers' schedule over 30 epochs (cyclic-30e.py),
# as the Waymo PointPillars teacher. Not trained here (no GPU, and Waymo's
# terms forbid sharing weights).
_base_ = [
    '../../_base_/models/second_res-c64_secfpn_head-iouqfl_waymo.py',
    '../../_base_/datasets/waymo-fov-3d-3class_cmkd-teacher.py',
    '../../_base_/schedules/cyclic-30e.py',
    '../../_base_/default_runtime.py'
]
