# CMKD on Waymo: the PointPillars teacher of teachers/pointpillars/
# pointpillars_pillar02-scatterconv_secfpn_8xb2-cyclic-30e_waymoD5-fov-3d-
# 3class
# (its 128-channel BEV map at 0.4 m coincides cell for cell with the
# student's) and the R50 camera student on the Waymo grid
# (cmkd-mono3d_r50-aspp-lid120_secfpn_waymo.py); the KITTI PointPillars
# distiller's losses (cmkd_pointpillars-scatterconv_r50-aspp-lid120_kitti.py:
# BEV 4.0, response cls 4.0 / box 2.0 / direction 0.2, depth 1.0).
_base_ = ['./cmkd-mono3d_r50-aspp-lid120_secfpn_waymo.py']

model = dict(
    _delete_=True,
    type='CMKD',
    student=dict(
        _base_.model,
        loss_depth=dict(_base_.model.loss_depth, loss_weight=1.0),
        bbox_head=dict(
            _base_.model.bbox_head,
            loss_resp_cls=dict(type='SoftQualityFocalLoss',
                               loss_weight=4.0),
            loss_resp_bbox=dict(type='SoftBoxRegressionLoss',
                                loss_weight=2.0),
            loss_resp_dir=dict(type='SoftDirectionLoss', loss_weight=0.2))),
    teacher=dict(
        cfg_path='cmkd_mmdet3d::teachers/pointpillars/pointpillars_pillar02-'
        'scatterconv_secfpn_8xb2-cyclic-30e_waymoD5-fov-3d-3class.py'),
    teacher_ckpt=None,          # --cfg-options model.teacher_ckpt=...
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=4.0),
    data_preprocessor=dict(
        _base_.model.data_preprocessor,
        voxel=True,
        voxel_layer=dict(
            max_num_points=20,
            point_cloud_range=_base_.grid_range,
            voxel_size=[0.2, 0.2, 6],
            max_voxels=(16000, 40000))))
