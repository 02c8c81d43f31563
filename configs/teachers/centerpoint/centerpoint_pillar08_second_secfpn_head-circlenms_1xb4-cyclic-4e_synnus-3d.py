# A CPU-sized CenterPoint teacher for the synthetic nuScenes world
# (`python tools/create_data.py synthetic-nuscenes --out data/synthetic_nus`):
# mmdet3d's pillar CenterPoint for nuScenes (10 classes, 6 tasks, circle NMS,
# 10-sweep points with their time lag), with pillars of 0.8 m, the cells of
# the surround-view student's BEV grid (CMKD-MV: 0.8 m over [-51.2, 51.2] m),
# so that its scattered pillar map (64 x 128 x 128) is the map the student
# imitates, as the synthetic KITTI PointPillars teacher's pillars are its
# student's cells. The SECOND backbone keeps its three stages but starts at
# stride 1 (the nuScenes config: 0.2 m pillars, first stride 2, heads at 0.8
# m), so that the heads again see 0.8 m cells; its channels are halved and
# the task heads are 32 wide instead of 64, for 2 CPU cores (2.5 s against
# 7.2 s per step of 4 frames; 1.6 M parameters against 6.4 M). The head is
# CMKDCenterHead (mmdet3d's CenterHead with its task heads initialised: the
# heatmap prior -2.19; mmdet3d leaves them at PyTorch's default). The world
# has no ground-truth database, so the copy-paste augmentation is left out;
# otherwise the pipeline, CBGS and the AdamW cyclic schedule (4 epochs
# instead of 20: CBGS repeats the 80 train frames of the README's world about
# 8 times per epoch) are mmdet3d's.
_base_ = [
    'mmdet3d::centerpoint/'
    'centerpoint_pillar02_second_secfpn_head-circlenms_8xb4-cyclic-20e_'
    'nus-3d.py'
]
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)

data_root = 'data/synthetic_nus/'
voxel_size = [0.8, 0.8, 8]
grid = [128, 128]                 # (102.4 m / 0.8 m)^2
model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(voxel_size=voxel_size, max_voxels=(16384, 16384))),
    pts_voxel_encoder=dict(voxel_size=voxel_size),
    pts_middle_encoder=dict(output_shape=grid),
    pts_backbone=dict(layer_strides=[1, 2, 2], out_channels=[32, 64, 128]),
    pts_neck=dict(upsample_strides=[1, 2, 4], in_channels=[32, 64, 128],
                  out_channels=[64, 64, 64]),
    pts_bbox_head=dict(
        type='CMKDCenterHead',
        in_channels=192,
        share_conv_channel=32,
        separate_head=dict(head_conv=32),
        bbox_coder=dict(out_size_factor=1, voxel_size=voxel_size[:2])),
    train_cfg=dict(
        pts=dict(grid_size=grid + [1], voxel_size=voxel_size,
                 out_size_factor=1)),
    test_cfg=dict(
        pts=dict(out_size_factor=1, voxel_size=voxel_size[:2])))

# mmdet3d's train pipeline without ObjectSample (index 3)
train_pipeline = _base_.train_pipeline[:3] + _base_.train_pipeline[4:]
train_dataloader = dict(
    num_workers=2,
    dataset=dict(dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(data_root=data_root,
                     ann_file=data_root + 'nuscenes_infos_val.pkl')
test_evaluator = val_evaluator

# mmdet3d's cyclic-20e (40 % rising, 60 % falling) over 4 epochs, in
# fractions of an epoch (mmengine turns them into iterations): lr 1e-4 ->
# 1e-3 -> 1e-8 as mmdet3d's; beta1 0.9 -> 0.85 -> 0.95 as the cycle means
# it (mmdet3d's eta_min 0.85 / 0.95 and 1 are read by mmengine as absolute
# values: 0.9 -> 0.895 -> 1.0, kept in the model-zoo teacher's config only)
epochs = 4
param_scheduler = [
    dict(p, T_max=p['T_max'] * epochs / 20, begin=p['begin'] * epochs / 20,
         end=p['end'] * epochs / 20, eta_min=eta_min)
    for p, eta_min in zip(_base_.param_scheduler, (1e-3, 1e-8, 0.85, 0.95))
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
