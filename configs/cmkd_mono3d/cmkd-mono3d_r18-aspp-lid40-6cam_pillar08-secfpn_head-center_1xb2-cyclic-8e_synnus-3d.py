# The surround-view camera student on the synthetic nuScenes world
# (`python tools/create_data.py synthetic-nuscenes --out data/synthetic_nus`),
# small enough for CPU, and the student of the CMKD configs with the
# synthetic CenterPoint teacher. It is the CPU teacher's config
# (teachers/centerpoint/centerpoint_pillar08_..._synnus-3d.py: dataset,
# classes, CenterHead tasks, AdamW cyclic schedule) with the LiDAR branch
# replaced by cameras:
# * the six views at 0.5 scale (113 x 200 of the 225 x 400 world), dilated
#   ResNet-18 from scratch at stride 8, 40 LID depth bins over [1, 60] m
#   (CMKD-MV: 59 uniform bins over the same range), 32-channel features;
# * all six lifted into one grid of 0.8 m voxels over [-51.2, 51.2] x
#   [-51.2, 51.2] x [-5, 3] m (CMKD-MV's; 128 x 128 x 10), the cameras
#   summed where their frustums overlap, collapsed to 64 channels and
#   refined by 2 SCNet blocks: the 64 x 128 x 128 map that the teacher's
#   scattered pillars give, the map CMKD distils;
# * the teacher's SECOND / SECONDFPN / CenterHead (6 tasks, velocities),
#   under the student's module names;
# * depth targets from the key frame's sweep (the 9 earlier sweeps smear
#   moving objects), as CMKD-MV's BEVDepth lift; CMKD-MV itself gives its
#   lift no depth supervision;
# * the BEV augmentation of CMKD-MV (rotation +-0.3925, scale 0.95-1.05,
#   both BEV flips) applied to the points and, through BEVAugToCameras, to
#   every camera's lidar2cam, so that the images stay valid; no image-space
#   augmentation yet (CMKD-MV: resize, rotation, flip per image).
_base_ = [
    '../teachers/centerpoint/centerpoint_pillar08_second_secfpn_head-'
    'circlenms_1xb4-cyclic-4e_synnus-3d.py'
]

data_root = 'data/synthetic_nus/'
point_cloud_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
class_names = _base_.class_names
cameras = [
    'CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK',
    'CAM_BACK_LEFT', 'CAM_BACK_RIGHT'
]
image_scale = 0.5
teacher = _base_.model

model = dict(
    _delete_=True,
    type='CMKDMono3D',
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    img_backbone=dict(
        type='DepthDistributionNet',
        backbone=dict(
            type='DilatedResNet',
            depth=18,
            num_stages=4,
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4),
            torchvision_dilation=False,
            out_indices=(2, 3),
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            style='pytorch',
            init_cfg=None),
        feat_in_channels=256,
        deep_in_channels=512,
        feat_channels=32,
        aspp_channels=64,
        aspp_dilations=(4, 8, 12)),
    lift_neck=dict(
        type='DepthLiftNeck',
        point_cloud_range=point_cloud_range,
        voxel_size=[0.8, 0.8, 0.8],
        align='caddn',
        in_channels=32,
        out_channels=64,
        num_blocks=2,
        camera_reduce='sum'),
    depth_bins=dict(num_bins=40, depth_min=1.0, depth_max=60.0, mode='LID'),
    backbone=teacher.pts_backbone,
    neck=teacher.pts_neck,
    bbox_head=teacher.pts_bbox_head,
    loss_depth=dict(type='DepthFocalLoss', alpha=0.25, gamma=2.0,
                    loss_weight=0.5),
    train_cfg=teacher.train_cfg.pts,
    test_cfg=teacher.test_cfg.pts)

backend_args = None
load_points = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5,
         use_dim=5, backend_args=backend_args),
    dict(type='LoadPointsFromMultiSweeps', sweeps_num=9,
         use_dim=[0, 1, 2, 3, 4], pad_empty_sweeps=True, remove_close=True,
         backend_args=backend_args),
]
load_images = [
    dict(type='LoadMultiViewImageFromFiles', to_float32=True,
         num_views=len(cameras), backend_args=backend_args),
    dict(type='ScaleImage3D', scale=image_scale),
]
# the points and the boxes are augmented before the images are loaded (so
# that RandomFlip3D leaves the images alone); BEVAugToCameras then moves
# every camera with them
bev_augmentation = [
    dict(type='GlobalRotScaleTrans', rot_range=[-0.3925, 0.3925],
         scale_ratio_range=[0.95, 1.05], translation_std=[0, 0, 0]),
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5,
         flip_ratio_bev_vertical=0.5),
]
# the distillation configs' pipeline: images for the student, the points
# (10 sweeps, with their time lag) for the teacher and the depth targets
distill_train_pipeline = load_points + [
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
] + bev_augmentation + load_images + [
    dict(type='BEVAugToCameras'),
    dict(type='MakeDepthTarget', stride=8, max_time_lag=0.0),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectNameFilter', classes=class_names),
    dict(type='PackCMKDInputs',
         keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
# the student alone: the same, without packing the points
train_pipeline = distill_train_pipeline[:-1] + [
    dict(type='PackCMKDInputs', keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])
]
test_pipeline = load_images + [dict(type='PackCMKDInputs', keys=['img'])]

camera_prefix = {cam: f'samples/{cam}' for cam in cameras}
modality = dict(use_lidar=True, use_camera=True)
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            pipeline=train_pipeline,
            modality=modality,
            data_prefix=camera_prefix)))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        pipeline=test_pipeline,
        modality=modality,
        data_prefix=camera_prefix))
test_dataloader = val_dataloader

# the teacher's schedule, 8 epochs of CBGS instead of 4
epochs = 8
param_scheduler = [
    dict(p, T_max=p['T_max'] * 2, begin=p['begin'] * 2, end=p['end'] * 2)
    for p in _base_.param_scheduler
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
