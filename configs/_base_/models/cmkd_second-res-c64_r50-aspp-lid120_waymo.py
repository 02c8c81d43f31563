# CMKD on Waymo with the SECOND teacher: the KITTI SECOND distiller
# (cmkd_second-res-c64_r50-aspp-lid120_kitti.py: BEV 32.0, response cls 8.0 /
# box 2.0 / direction 0.4, depth 1.0) on the Waymo grid (waymo-front-grid.py,
# as cmkd-mono3d_r50-aspp-lid120_secfpn_waymo.py), with the Waymo SECOND
# teacher of teachers/second/second_res-c64_secfpn_head-iouqfl_8xb2-cyclic-
# 30e_waymoD5-fov-3d-3class (already on the student's range: its 128-channel
# BEV map at 0.4 m coincides cell for cell with the student's).
_base_ = ['./cmkd_second-res-c64_r50-aspp-lid120_kitti.py',
          './waymo-front-grid.py']

model = dict(
    student=_base_.waymo_student,
    teacher=dict(
        _delete_=True,
        cfg_path='cmkd_mmdet3d::teachers/second/second_res-c64_secfpn_'
        'head-iouqfl_8xb2-cyclic-30e_waymoD5-fov-3d-3class.py'))
