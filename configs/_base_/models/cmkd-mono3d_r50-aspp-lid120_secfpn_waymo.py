# The CMKD camera student (cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py) on
# the Waymo front camera's grid (waymo-front-grid.py: 128 x 128 x 15 voxels
# of 0.4 m, 120 LID bins over [2, 52] m) with the anchors and assigners of
# mmdet3d's Waymo PointPillars / SECOND, which the Waymo teacher
# (teachers/pointpillars/pointpillars_pillar02-scatterconv_secfpn_8xb2-
# cyclic-30e_waymoD5-fov-3d-3class.py) shares.
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py',
          './waymo-front-grid.py']

model = _base_.waymo_student
