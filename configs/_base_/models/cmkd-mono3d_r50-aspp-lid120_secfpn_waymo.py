# The CMKD camera student (cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py) on
# the Waymo front camera's grid: [0, 51.2] x [-25.6, 25.6] x [-2, 4] m in
# 0.4 m voxels (Cc-Hy/CMKD#12: 128 x 128 x 15), 120 LID bins over [2, 52] m,
# and the anchors and assigners of mmdet3d's Waymo PointPillars / SECOND
# (Car, Pedestrian, Cyclist on the vehicle frame's ground), which the Waymo
# teacher (teachers/pointpillars/pointpillars_pillar02-scatterconv_secfpn_
# 8xb2-cyclic-30e_waymoD5-fov-3d-3class.py) shares.
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py']

grid_range = [0, -25.6, -2, 51.2, 25.6, 4]
grid_voxel_size = [0.4, 0.4, 0.4]
_iou = dict(type='Max3DIoUAssigner',
            iou_calculator=dict(type='mmdet3d.BboxOverlapsNearest3D'),
            ignore_iof_thr=-1)
model = dict(
    lift_neck=dict(point_cloud_range=grid_range, voxel_size=grid_voxel_size,
                   depth_min=2.0, depth_max=52.0),
    bbox_head=dict(anchor_generator=dict(
        type='AlignedAnchor3DRangeGenerator',
        ranges=[[0, -25.6, -0.0345, 51.2, 25.6, -0.0345],
                [0, -25.6, 0, 51.2, 25.6, 0],
                [0, -25.6, -0.1188, 51.2, 25.6, -0.1188]],
        sizes=[[4.73, 2.08, 1.77], [0.91, 0.84, 1.74], [1.81, 0.84, 1.77]])),
    train_cfg=dict(assigner=[
        dict(_iou, pos_iou_thr=0.55, neg_iou_thr=0.4, min_pos_iou=0.4),
        dict(_iou, pos_iou_thr=0.5, neg_iou_thr=0.3, min_pos_iou=0.3),
        dict(_iou, pos_iou_thr=0.5, neg_iou_thr=0.3, min_pos_iou=0.3),
    ]))
