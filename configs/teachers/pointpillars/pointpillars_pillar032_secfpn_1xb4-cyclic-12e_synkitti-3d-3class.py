# PointPillars LiDAR teacher for the synthetic world, small enough for CPU
# (pointpillars_light-secfpn_cpu.py). Grid: the CMKD student grid, [2, 46.8]
# x [-30.08, 30.08] at 0.32 m pillars (140 x 188 cells), so its BEV map
# coincides cell for cell with the student's.
_base_ = [
    '../../_base_/models/pointpillars_light-secfpn_cpu.py',
    '../../_base_/datasets/synkitti-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py'
]

# the student grid of the dataset base
point_cloud_range = _base_.point_cloud_range
voxel_size = [0.32, 0.32, 4]

model = dict(
    data_preprocessor=dict(voxel_layer=dict(
        point_cloud_range=point_cloud_range, voxel_size=voxel_size)),
    voxel_encoder=dict(
        voxel_size=voxel_size, point_cloud_range=point_cloud_range),
    middle_encoder=dict(output_shape=[188, 140]),
    bbox_head=dict(anchor_generator=dict(ranges=[
        [2, -30.08, z, 46.8, 30.08, z] for z in _base_.anchor_z])))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
# pictures of predictions vs ground truth (image + BEV) in <log_dir>/vis/
custom_hooks = [dict(type='PredictionVisHook', max_samples=6, score_thr=0.3)]
