# CMKD PointPillars teacher on Waymo: mmdet3d's Waymo PointPillars (HardVFE
# on 5 point features, one frame in five) on the reference
# author's Waymo range (Cc-Hy/CMKD#12: [0, 51.2] x [-25.6, 25.6] m) with the
# BEV stem of the CMKD KITTI teacher (pointpillars_hv-scatterconv_secfpn_
# 8xb8-80e_kitti-3d-3class.py): 0.2 m pillars, scatter, a stride-2 conv and
# 5 convs of 128 channels, so that the teacher BEV map has the student's
# 0.4 m cells (128 x 128); then SECOND [5, 5] / SECONDFPN and an anchor head
# with CMKD's direction bins. Front-camera points and boxes only
# (waymo-fov-3d-3class_cmkd-teacher.py), evaluated with WaymoAPMetric.
# The schedule of the CMKD teachers (OpenPCDet's adam_onecycle, peak
# 3e-3) over 30 epochs, as OpenPCDet's Waymo configs (cyclic-30e.py).
# Not trained here (no GPU, and Waymo's terms forbid sharing weights).
_base_ = [
    'mmdet3d::_base_/models/pointpillars_hv_secfpn_waymo.py',
    '../../_base_/datasets/waymo-fov-3d-3class_cmkd-teacher.py',
    '../../_base_/schedules/cyclic-30e.py',
    '../../_base_/default_runtime.py'
]

point_cloud_range = _base_.point_cloud_range
voxel_size = [0.2, 0.2, 6]
model = dict(
    data_preprocessor=dict(voxel_layer=dict(
        point_cloud_range=point_cloud_range, voxel_size=voxel_size,
        max_voxels=(16000, 40000))),
    pts_voxel_encoder=dict(feat_channels=[128], voxel_size=voxel_size,
                           point_cloud_range=point_cloud_range),
    pts_middle_encoder=dict(
        _delete_=True, type='PointPillarsScatterConv', in_channels=128,
        output_shape=[256, 256], out_channels=128, stride=2, num_convs=5),
    pts_backbone=dict(in_channels=128, layer_nums=[5, 5],
                      layer_strides=[1, 2], out_channels=[128, 256]),
    pts_neck=dict(in_channels=[128, 256], upsample_strides=[1, 2],
                  out_channels=[256, 256]),
    pts_bbox_head=dict(
        in_channels=512,
        feat_channels=512,
        dir_offset=0.78539,
        dir_limit_offset=0,
        anchor_generator=dict(ranges=[
            [0, -25.6, -0.0345, 51.2, 25.6, -0.0345],
            [0, -25.6, 0, 51.2, 25.6, 0],
            [0, -25.6, -0.1188, 51.2, 25.6, -0.1188]])))
