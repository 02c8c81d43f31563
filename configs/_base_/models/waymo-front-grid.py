# The Waymo front-camera setting shared by the Waymo students and
# distillers: the reference author's range and image voxels
# (Cc-Hy/CMKD#12: [0, -25.6, -2, 51.2, 25.6, 4] m, 0.4 m, so a 128 x 128 x
# 15 grid), the depth bins' span, and the anchors in Waymo's class order
# (Car, Pedestrian, Cyclist) on the vehicle frame's ground.
waymo_grid_range = [0, -25.6, -2, 51.2, 25.6, 4]
waymo_lift = dict(point_cloud_range=waymo_grid_range,
                  voxel_size=[0.4, 0.4, 0.4], depth_min=2.0, depth_max=52.0)
# mmdet3d's Waymo anchors and assigners (PointPillars / SECOND)
waymo_anchor_generator = dict(
    type='AlignedAnchor3DRangeGenerator',
    ranges=[[0, -25.6, -0.0345, 51.2, 25.6, -0.0345],
            [0, -25.6, 0, 51.2, 25.6, 0],
            [0, -25.6, -0.1188, 51.2, 25.6, -0.1188]],
    sizes=[[4.73, 2.08, 1.77], [0.91, 0.84, 1.74], [1.81, 0.84, 1.77]])
waymo_assigners = [
    dict(type='Max3DIoUAssigner',
         iou_calculator=dict(type='mmdet3d.BboxOverlapsNearest3D'),
         pos_iou_thr=thr[0], neg_iou_thr=thr[1], min_pos_iou=thr[1],
         ignore_iof_thr=-1)
    for thr in ((0.55, 0.4), (0.5, 0.3), (0.5, 0.3))
]
# what puts a KITTI camera student on this grid: its ``model``, or a
# distiller's ``model.student``
waymo_student = dict(
    lift_neck=waymo_lift,
    bbox_head=dict(anchor_generator=waymo_anchor_generator),
    train_cfg=dict(assigner=waymo_assigners))
# the synthetic world's objects are the KITTI world's: KITTI's anchor sizes
# (and the KITTI students' assigners, reordered), on z = 0
synwaymo_anchor_generator = dict(
    ranges=[[0, -25.6, 0, 51.2, 25.6, 0]] * 3,
    sizes=[[3.9, 1.6, 1.56], [0.8, 0.6, 1.73], [1.76, 0.6, 1.73]])
# Car, Pedestrian, Cyclist from the KITTI order Pedestrian, Cyclist, Car
# (the KITTI assigners of cmkd-bev-parts_kitti.py, reordered)
kitti_to_waymo_order = (2, 0, 1)
