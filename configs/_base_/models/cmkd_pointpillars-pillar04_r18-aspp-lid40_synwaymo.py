# CMKD on the synthetic Waymo world (CPU): the synthetic KITTI distiller
# (cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py: light student,
# response losses, BEV loss weight 4) on the Waymo grid, with the synthetic
# Waymo PointPillars teacher (teachers/pointpillars/pointpillars_pillar04_
# secfpn_1xb4-cyclic-12e_synwaymo-3d-3class: 0.4 m pillars on the student's
# grid, so its BEV map coincides cell for cell with the student's). The
# student's grid, depth range, anchors and class order are those of
# cmkd-mono3d_r18-aspp-lid40_secfpn-light_waymo.py.
_base_ = ['./cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py']

grid_range = [0, -25.6, -2, 51.2, 25.6, 4]
_student = _base_.model.student
model = dict(
    student=dict(
        lift_neck=dict(point_cloud_range=grid_range,
                       voxel_size=[0.4, 0.4, 0.4],
                       depth_min=2.0, depth_max=52.0),
        bbox_head=dict(anchor_generator=dict(
            ranges=[[0, -25.6, 0, 51.2, 25.6, 0]] * 3,
            sizes=[[3.9, 1.6, 1.56], [0.8, 0.6, 1.73], [1.76, 0.6, 1.73]])),
        # Car, Pedestrian, Cyclist
        train_cfg=dict(assigner=[_student.train_cfg.assigner[i]
                                 for i in (2, 0, 1)])),
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/pointpillars/pointpillars_'
        'pillar04_secfpn_1xb4-cyclic-12e_synwaymo-3d-3class.py'),
    data_preprocessor=dict(voxel_layer=dict(point_cloud_range=grid_range,
                                            voxel_size=[0.4, 0.4, 6])))
