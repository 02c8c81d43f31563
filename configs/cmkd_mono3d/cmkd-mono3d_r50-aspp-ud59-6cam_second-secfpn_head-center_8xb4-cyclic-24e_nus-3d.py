# The surround-view camera student on nuScenes at CMKD-MV's setting
# (Cc-Hy/CMKD-MV, configs/cmkd/cmkd-bevdet-r50-10sweep.py): six 256 x 704
# views with CMKD-MV's image-view augmentation (BEVDetImageAug3D: scale
# 0.44 +- 0.06, the bottom window, flip, rotation +-5.4 deg; at test time
# scale 0.48, the bottom window centred), ResNet-50 (ImageNet, torchvision's weights fetched by
# mmengine into the torch hub cache; offline: a local copy), 59 uniform
# depth bins of 1 m over [1, 60] m (CMKD-MV's dbound), 64-channel features
# lifted into 0.8 m voxels over [-51.2, 51.2]^2 x [-5, 3] m (128 x 128 x 10),
# collapsed to 256 channels and refined by 2 SCNet blocks: the map of CMKD-MV
# and of the CenterPoint teacher's middle encoder (256 x 128 x 128); then
# the teacher's SECOND / SECONDFPN / 6-task CenterHead (CMKDCenterHead, for
# the response losses), under the student's module names. 24 epochs of CBGS
# with mmdet3d's (= CMKD-MV's) cyclic AdamW schedule, 8 GPUs x 4 samples.
# Differences from CMKD-MV, whose student is BEVDet's (ResNet-50 + FPN at
# stride 16 + a forward splat, LSS): the depth network is the CaDDN-style
# one of the KITTI student (stride 8, ASPP) with LiDAR depth supervision of
# the key frame (CMKD-MV's lift gets none), the lift samples voxels
# (frustum-to-voxel); the image-view and BEV augmentations are CMKD-MV's.
# Not trained here (no GPU): a training step on mmdet3d's nuScenes sample is
# tested.
_base_ = [
    '../teachers/centerpoint/centerpoint_voxel01_second_secfpn_head-'
    'circlenms_8xb4-cyclic-20e_nus-3d.py', '../_base_/datasets/nus-6cam-bev.py',
    '../_base_/models/cmkd-image-branches.py'
]

class_names = _base_.class_names
teacher = _base_.model

model = dict(
    _delete_=True,
    type='CMKDMono3D',
    data_preprocessor=_base_.cmkd_img_data_preprocessor,
    img_backbone=dict(
        _base_.cmkd_r50_img_backbone,
        backbone=dict(
            _base_.cmkd_r50_img_backbone.backbone,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='https://download.pytorch.org/models/'
                'resnet50-0676ba61.pth'))),
    lift_neck=dict(_base_.nus_lift_neck, in_channels=64, out_channels=256),
    depth_bins=dict(num_bins=59, depth_min=1.0, depth_max=60.0, mode='UD'),
    backbone=teacher.pts_backbone,
    neck=teacher.pts_neck,
    bbox_head=dict(teacher.pts_bbox_head, type='CMKDCenterHead'),
    loss_depth=_base_.nus_loss_depth,
    train_cfg=teacher.train_cfg.pts,
    test_cfg=teacher.test_cfg.pts)

distill_train_pipeline = (
    _base_.nus_load_points + _base_.nus_bev_augmentation +
    [_base_.nus_load_views, _base_.nus_image_aug] + _base_.nus_targets +
    [dict(type='ObjectNameFilter', classes=class_names),
     _base_.nus_pack_distill])
train_pipeline = distill_train_pipeline[:-1] + [_base_.nus_pack_student]
test_pipeline = [
    _base_.nus_load_views,
    dict(_base_.nus_image_aug, test_mode=True), _base_.nus_pack_test
]

views = dict(modality=_base_.nus_modality,
             data_prefix=_base_.nus_camera_prefix)
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=train_pipeline, **views)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline, **views))
test_dataloader = val_dataloader

# mmdet3d's cyclic-20e over 24 epochs (CMKD-MV's runner): lr 1e-4 -> 1e-3
# -> 1e-8; beta1 0.9 -> 0.85 -> 0.95 as the cycle means it (mmdet3d's
# eta_min 0.85 / 0.95 and 1 are read by mmengine as absolute values)
epochs = 24
param_scheduler = [
    dict(p, T_max=p['T_max'] * epochs / 20, begin=p['begin'] * epochs / 20,
         end=p['end'] * epochs / 20, eta_min=eta_min)
    for p, eta_min in zip(_base_.param_scheduler, (1e-3, 1e-8, 0.85, 0.95))
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
