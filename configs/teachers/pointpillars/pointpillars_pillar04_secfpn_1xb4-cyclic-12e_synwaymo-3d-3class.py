# PointPillars LiDAR teacher for the synthetic Waymo world, small enough for
# CPU (pointpillars_light-secfpn_cpu.py). Grid: the Waymo student grid,
# [0, 51.2] x [-25.6, 25.6] at 0.4 m pillars (128 x 128 cells;
# Cc-Hy/CMKD#12), so that its BEV map coincides cell for cell with the
# student's. Waymo's classes, in Waymo's order, with anchors on the vehicle
# frame's ground (z = 0).
_base_ = [
    '../../_base_/models/pointpillars_light-secfpn_cpu.py',
    '../../_base_/datasets/synwaymo-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/models/waymo-front-grid.py'
]

point_cloud_range = _base_.point_cloud_range
voxel_size = [0.4, 0.4, 6]

model = dict(
    data_preprocessor=dict(voxel_layer=dict(
        point_cloud_range=point_cloud_range, voxel_size=voxel_size)),
    voxel_encoder=dict(
        in_channels=5,      # x, y, z, intensity, elongation
        voxel_size=voxel_size, point_cloud_range=point_cloud_range),
    middle_encoder=dict(output_shape=[128, 128]),
    bbox_head=dict(anchor_generator=dict(
        ranges=_base_.synwaymo_anchor_generator.ranges,
        # Car, Pedestrian, Cyclist: l, w, h
        sizes=_base_.synwaymo_anchor_generator.sizes)),
    # the KITTI teachers' assigners (the reference's thresholds), reordered
    train_cfg=dict(assigner=[_base_.anchor_assigners[i]
                             for i in _base_.kitti_to_waymo_order]))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
