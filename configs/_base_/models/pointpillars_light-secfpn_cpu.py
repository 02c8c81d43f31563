# The synthetic worlds' PointPillars LiDAR teacher, small enough for CPU:
# mmdet3d's PointPillars with 64-channel pillars (absolute xyz kept, as the
# reference's PillarVFE; mmdet3d's legacy=True overwrites them with the
# offsets from the pillar centre), the light BEV backbone / neck / head
# channels of cmkd-bev-parts_kitti.py (those of the light camera student, so
# that stage 2 copies them by name) and CMKD's direction bins (the
# student's, not mmdet3d's -pi/2). Each teacher adds its grid (voxel size,
# range, scatter shape) and anchors.
_base_ = [
    'mmdet3d::_base_/models/pointpillars_hv_secfpn_kitti.py',
    './cmkd-bev-parts_kitti.py'
]

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(max_num_points=32, max_voxels=(12000, 20000))),
    voxel_encoder=dict(feat_channels=[64], legacy=False),
    middle_encoder=dict(in_channels=64),
    backbone=_base_.light_bev_backbone,
    neck=_base_.light_bev_neck,
    bbox_head=dict(**_base_.light_head_channels, dir_offset=0.78539,
                   dir_limit_offset=0),
    test_cfg=dict(nms_pre=1000, max_num=100))
