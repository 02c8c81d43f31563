# PointPillars LiDAR teacher for the synthetic Waymo world, small enough for
# CPU. Grid: the Waymo student grid, [0, 51.2] x [-25.6, 25.6] at 0.4 m
# pillars (128 x 128 cells; Cc-Hy/CMKD#12), so that its BEV map coincides
# cell for cell with the student's. The light backbone and channels of the
# synthetic KITTI teacher (pointpillars_pillar032_secfpn_1xb4-cyclic-12e_
# synkitti-3d-3class.py); Waymo's classes, in Waymo's order, with anchors on
# the vehicle frame's ground (z = 0).
_base_ = [
    'mmdet3d::_base_/models/pointpillars_hv_secfpn_kitti.py',
    '../../_base_/datasets/synwaymo-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py',
    '../../_base_/models/waymo-front-grid.py',
    '../../_base_/models/cmkd-bev-parts_kitti.py'
]

point_cloud_range = _base_.point_cloud_range
voxel_size = [0.4, 0.4, 6]

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(
            max_num_points=32,
            point_cloud_range=point_cloud_range,
            voxel_size=voxel_size,
            max_voxels=(12000, 20000))),
    voxel_encoder=dict(
        in_channels=5,      # x, y, z, intensity, elongation
        feat_channels=[64],
        legacy=False,
        voxel_size=voxel_size,
        point_cloud_range=point_cloud_range),
    middle_encoder=dict(in_channels=64, output_shape=[128, 128]),
    backbone=dict(
        in_channels=64,
        layer_nums=[2, 3],
        layer_strides=[1, 2],
        out_channels=[32, 64]),
    neck=dict(
        in_channels=[32, 64], upsample_strides=[1, 2],
        out_channels=[64, 64]),
    bbox_head=dict(
        in_channels=128,
        feat_channels=128,
        # CMKD's direction bins (the student's), not mmdet3d's -pi/2
        dir_offset=0.78539,
        dir_limit_offset=0,
        anchor_generator=dict(
            ranges=_base_.synwaymo_anchor_generator.ranges,
            # Car, Pedestrian, Cyclist: l, w, h
            sizes=_base_.synwaymo_anchor_generator.sizes)),
    # the KITTI teachers' assigners (the reference's thresholds), reordered
    train_cfg=dict(assigner=[_base_.anchor_assigners[i]
                             for i in _base_.kitti_to_waymo_order]),
    test_cfg=dict(nms_pre=1000, max_num=100))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
