# CMKD on Waymo: the KITTI PointPillars distiller
# (cmkd_pointpillars-scatterconv_r50-aspp-lid120_kitti.py: BEV 4.0,
# response cls 4.0 / box 2.0 / direction 0.2, depth 1.0) on the Waymo grid
# (waymo-front-grid.py, as cmkd-mono3d_r50-aspp-lid120_secfpn_waymo.py),
# with the Waymo PointPillars teacher of teachers/pointpillars/
# pointpillars_pillar02-scatterconv_secfpn_8xb2-cyclic-30e_waymoD5-fov-3d-
# 3class (its 128-channel BEV map at 0.4 m coincides cell for cell with the
# student's).
_base_ = ['./cmkd_pointpillars-scatterconv_r50-aspp-lid120_kitti.py',
          './waymo-front-grid.py']

model = dict(
    student=_base_.waymo_student,
    teacher=dict(
        _delete_=True,
        cfg_path='cmkd_mmdet3d::teachers/pointpillars/pointpillars_pillar02-'
        'scatterconv_secfpn_8xb2-cyclic-30e_waymoD5-fov-3d-3class.py'))
