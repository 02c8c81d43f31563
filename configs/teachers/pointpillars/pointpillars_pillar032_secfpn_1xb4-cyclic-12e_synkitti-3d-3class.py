# PointPillars LiDAR teacher for the synthetic world, small enough for CPU.
# Grid: the CMKD student grid, [2, 46.8] x [-30.08, 30.08] at 0.32 m pillars
# (140 x 188 cells), so its BEV map coincides cell for cell with the student's.
_base_ = [
    'mmdet3d::_base_/models/pointpillars_hv_secfpn_kitti.py',
    '../../_base_/datasets/synkitti-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py'
]

# the student grid of the dataset base
point_cloud_range = _base_.point_cloud_range
voxel_size = [0.32, 0.32, 4]

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(
            max_num_points=32,
            point_cloud_range=point_cloud_range,
            voxel_size=voxel_size,
            max_voxels=(12000, 20000))),
    voxel_encoder=dict(
        feat_channels=[64],
        legacy=False,   # absolute xyz kept, as the reference's PillarVFE
        voxel_size=voxel_size,
        point_cloud_range=point_cloud_range),
    middle_encoder=dict(in_channels=64, output_shape=[188, 140]),
    # a light BEV backbone so that CPU training takes minutes
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
        anchor_generator=dict(ranges=[
            [2, -30.08, -0.6, 46.8, 30.08, -0.6],
            [2, -30.08, -0.6, 46.8, 30.08, -0.6],
            [2, -30.08, -1.78, 46.8, 30.08, -1.78],
        ])),
    test_cfg=dict(nms_pre=1000, max_num=100))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
# pictures of predictions vs ground truth (image + BEV) in <log_dir>/vis/
custom_hooks = [dict(type='PredictionVisHook', max_samples=6, score_thr=0.3)]
