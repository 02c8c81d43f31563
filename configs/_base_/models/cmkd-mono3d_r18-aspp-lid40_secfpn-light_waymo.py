# The light camera student (cmkd-mono3d_r18-aspp-lid40_secfpn-light.py) on
# the Waymo front camera's grid (waymo-front-grid.py: 128 x 128 x 15 voxels
# of 0.4 m, 40 LID bins over [2, 52] m) with the anchors of the synthetic
# Waymo PointPillars teacher (teachers/pointpillars/pointpillars_pillar04_
# secfpn_1xb4-cyclic-12e_synwaymo-3d-3class): Waymo's class order.
_base_ = ['./cmkd-mono3d_r18-aspp-lid40_secfpn-light.py',
          './waymo-front-grid.py']

model = dict(
    lift_neck=_base_.waymo_lift,
    bbox_head=dict(anchor_generator=_base_.synwaymo_anchor_generator),
    train_cfg=dict(assigner=[_base_.model.train_cfg.assigner[i]
                             for i in _base_.kitti_to_waymo_order]))
