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
#   every camera's lidar2cam, so that the images stay valid; not CMKD-MV's
#   image-view augmentation (resize, rotation, flip per view:
#   BEVDetImageAug3D, in the nuScenes config), not tried on this world.
_base_ = [
    '../teachers/centerpoint/centerpoint_pillar08_second_secfpn_head-'
    'circlenms_1xb4-cyclic-4e_synnus-3d.py', '../_base_/datasets/nus-6cam-bev.py',
    '../_base_/models/cmkd-image-branches.py'
]

data_root = 'data/synthetic_nus/'
class_names = _base_.class_names
teacher = _base_.model

model = dict(
    _delete_=True,
    type='CMKDMono3D',
    data_preprocessor=_base_.cmkd_img_data_preprocessor,
    img_backbone=_base_.cmkd_r18_img_backbone,
    lift_neck=dict(_base_.nus_lift_neck, in_channels=32, out_channels=64),
    depth_bins=dict(num_bins=40, depth_min=1.0, depth_max=60.0, mode='LID'),
    backbone=teacher.pts_backbone,
    neck=teacher.pts_neck,
    bbox_head=teacher.pts_bbox_head,
    loss_depth=_base_.nus_loss_depth,
    train_cfg=teacher.train_cfg.pts,
    test_cfg=teacher.test_cfg.pts)

load_images = [_base_.nus_load_views, dict(type='ScaleImage3D', scale=0.5)]
# the distillation configs' pipeline: images for the student, the points
# (10 sweeps, with their time lag) for the teacher and the depth targets
distill_train_pipeline = (
    _base_.nus_load_points + _base_.nus_bev_augmentation + load_images +
    _base_.nus_targets +
    [dict(type='ObjectNameFilter', classes=class_names),
     _base_.nus_pack_distill])
# the student alone: the same, without packing the points
train_pipeline = distill_train_pipeline[:-1] + [_base_.nus_pack_student]
test_pipeline = load_images + [_base_.nus_pack_test]

views = dict(modality=_base_.nus_modality,
             data_prefix=_base_.nus_camera_prefix)
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        dataset=dict(data_root=data_root, pipeline=train_pipeline,
                     **views)))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=test_pipeline, **views))
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
