# CMKD PointPillars teacher on KITTI (spec section 3): range [0, 69.12] x
# [-39.68, 39.68], 0.16 m pillars (32 points, 16000 / 40000 pillars), 128
# pillar channels; the scatter is followed by CMKD's BEV stem (3x3 stride-2
# conv + 5 convs, 128 ch) so that the teacher BEV map has 0.32 m cells, the
# student's grid; then SECOND [5, 5] / SECONDFPN and an anchor head at stride 2
# of the pillar grid. cls 1.0, loc 2.0, dir 0.2; one-cycle AdamW, 80 epochs.
_base_ = [
    'mmdet3d::_base_/models/pointpillars_hv_secfpn_kitti.py',
    'mmdet3d::_base_/datasets/kitti-3d-3class.py',
    '../../_base_/schedules/cyclic-80e.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)

model = dict(
    voxel_encoder=dict(feat_channels=[128]),
    middle_encoder=dict(
        type='PointPillarsScatterConv', in_channels=128,
        output_shape=[496, 432], out_channels=128, stride=2, num_convs=5),
    backbone=dict(
        in_channels=128,
        layer_nums=[5, 5],
        layer_strides=[1, 2],
        out_channels=[128, 256]),
    neck=dict(
        in_channels=[128, 256], upsample_strides=[1, 2],
        out_channels=[256, 256]),
    bbox_head=dict(
        in_channels=512,
        feat_channels=512,
        dir_offset=0.78539,
        dir_limit_offset=0))
train_dataloader = dict(batch_size=8, num_workers=4)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5))
auto_scale_lr = dict(enable=False, base_batch_size=64)
