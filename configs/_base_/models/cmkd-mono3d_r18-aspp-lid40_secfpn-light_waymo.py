# The light camera student (cmkd-mono3d_r18-aspp-lid40_secfpn-light.py) on
# the Waymo front camera's grid: [0, 51.2] x [-25.6, 25.6] x [-2, 4] m in
# 0.4 m voxels (Cc-Hy/CMKD#12: 128 x 128 x 15), 40 LID bins over
# [2, 52] m, and the anchors of the synthetic Waymo PointPillars teacher
# (teachers/pointpillars/pointpillars_pillar04_secfpn_1xb4-cyclic-12e_
# synwaymo-3d-3class): Waymo's classes in Waymo's order (Car, Pedestrian,
# Cyclist) on the vehicle frame's ground, z = 0.
_base_ = ['./cmkd-mono3d_r18-aspp-lid40_secfpn-light.py']

grid_range = [0, -25.6, -2, 51.2, 25.6, 4]
grid_voxel_size = [0.4, 0.4, 0.4]
model = dict(
    lift_neck=dict(point_cloud_range=grid_range, voxel_size=grid_voxel_size,
                   depth_min=2.0, depth_max=52.0),
    bbox_head=dict(
        anchor_generator=dict(
            ranges=[[0, -25.6, 0, 51.2, 25.6, 0]] * 3,
            sizes=[[3.9, 1.6, 1.56], [0.8, 0.6, 1.73], [1.76, 0.6, 1.73]])),
    train_cfg=dict(assigner=[
        _base_.model.train_cfg.assigner[2],     # Car
        _base_.model.train_cfg.assigner[0],     # Pedestrian
        _base_.model.train_cfg.assigner[1],     # Cyclist
    ]))
