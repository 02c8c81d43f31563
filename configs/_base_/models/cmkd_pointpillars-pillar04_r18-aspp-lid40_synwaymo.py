# CMKD on the synthetic Waymo world (CPU): the synthetic KITTI distiller
# (cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py: light student,
# response losses, BEV loss weight 4) on the Waymo grid (waymo-front-grid.py,
# as cmkd-mono3d_r18-aspp-lid40_secfpn-light_waymo.py), with the synthetic
# Waymo PointPillars teacher (teachers/pointpillars/pointpillars_pillar04_
# secfpn_1xb4-cyclic-12e_synwaymo-3d-3class: 0.4 m pillars on the student's
# grid, so its BEV map coincides cell for cell with the student's).
_base_ = ['./cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py',
          './waymo-front-grid.py']

model = dict(
    student=dict(
        lift_neck=_base_.waymo_lift,
        bbox_head=dict(anchor_generator=_base_.synwaymo_anchor_generator),
        train_cfg=dict(assigner=[
            _base_.model.student.train_cfg.assigner[i]
            for i in _base_.kitti_to_waymo_order])),
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/pointpillars/pointpillars_'
        'pillar04_secfpn_1xb4-cyclic-12e_synwaymo-3d-3class.py'))
