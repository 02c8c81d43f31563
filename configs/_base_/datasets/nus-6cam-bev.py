# The pieces of the surround-view student's pipelines on nuScenes (real or
# the synthetic world), as CMKD-MV (Cc-Hy/CMKD-MV, configs/cmkd/
# cmkd-bevdet-r50-10sweep.py): the six cameras, the 10-sweep points (x, y, z,
# intensity, time lag) for the teacher and the depth targets, and the BEV
# augmentation applied to the points and, through BEVAugToCameras, to every
# camera's lidar2cam. Names start with nus_ so that a leaf can take them next
# to the teacher config it inherits; each leaf adds its own image loading
# (resize / crop) and assembles the pipelines.
nus_cameras = [
    'CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK',
    'CAM_BACK_LEFT', 'CAM_BACK_RIGHT'
]
nus_camera_prefix = dict(
    CAM_FRONT='samples/CAM_FRONT',
    CAM_FRONT_RIGHT='samples/CAM_FRONT_RIGHT',
    CAM_FRONT_LEFT='samples/CAM_FRONT_LEFT',
    CAM_BACK='samples/CAM_BACK',
    CAM_BACK_LEFT='samples/CAM_BACK_LEFT',
    CAM_BACK_RIGHT='samples/CAM_BACK_RIGHT')
nus_modality = dict(use_lidar=True, use_camera=True)
nus_bev_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
nus_load_views = dict(
    type='LoadMultiViewImageFromFiles', to_float32=True, num_views=6)
# CMKD-MV's image-view augmentation (BEVDet's data_config): per view a scale
# of 704 / 1600 + U(-0.06, 0.06), the bottom 256 x 704 window at a random
# left, a left-right flip (p = 0.5) and a rotation of U(-5.4, 5.4) deg; at
# test time (test_mode=True) the scale 704 / 1600 + 0.04 and the bottom
# window centred
nus_image_aug = dict(
    type='BEVDetImageAug3D', final_size=(256, 704), resize=(-0.06, 0.06),
    rot=(-5.4, 5.4), flip=True, crop_h=(0.0, 0.0), resize_test=0.04)
nus_load_points = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=5,
         use_dim=5),
    dict(type='LoadPointsFromMultiSweeps', sweeps_num=9,
         use_dim=[0, 1, 2, 3, 4], pad_empty_sweeps=True, remove_close=True),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
]
# before the images are loaded, so that RandomFlip3D leaves them alone
nus_bev_augmentation = [
    dict(type='GlobalRotScaleTrans', rot_range=[-0.3925, 0.3925],
         scale_ratio_range=[0.95, 1.05], translation_std=[0, 0, 0]),
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5,
         flip_ratio_bev_vertical=0.5),
]
# after the images: the cameras follow the points; depth targets from the
# key frame's sweep (the earlier sweeps smear moving objects)
nus_targets = [
    dict(type='BEVAugToCameras'),
    dict(type='MakeDepthTarget', stride=8, max_time_lag=0.0),
    dict(type='PointsRangeFilter', point_cloud_range=nus_bev_range),
    dict(type='ObjectRangeFilter', point_cloud_range=nus_bev_range),
]
nus_pack_distill = dict(
    type='PackCMKDInputs',
    keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
nus_pack_student = dict(
    type='PackCMKDInputs', keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])
nus_pack_test = dict(type='PackCMKDInputs', keys=['img'])

# the surround-view student's lift (CMKD-MV's grid: 0.8 m voxels over
# [-51.2, 51.2]^2 x [-5, 3] m, 128 x 128 x 10; the six cameras summed) and
# depth loss; a leaf adds the channels, the depth network, the depth bins
# and the teacher's BEV detector
nus_lift_neck = dict(
    type='DepthLiftNeck',
    point_cloud_range=nus_bev_range,
    voxel_size=[0.8, 0.8, 0.8],
    align='caddn',
    num_blocks=2,
    camera_reduce='sum')
nus_loss_depth = dict(
    type='DepthFocalLoss', alpha=0.25, gamma=2.0, loss_weight=0.5)
