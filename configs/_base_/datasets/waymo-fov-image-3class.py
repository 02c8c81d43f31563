# Waymo for the front-camera student (mmdet3d's Waymo infos, one frame in
# five as waymoD5): the KITTI student's pipeline (kitti-image-3class.py) on
# CAM_FRONT at half resolution (ScaleImage3D 0.5: 960 x 640), the front
# camera's LiDAR points for the depth targets (and for the teacher in the
# distillation configs), the boxes the camera sees (ObjectFOVFilter) within
# the reference author's Waymo range (Cc-Hy/CMKD#12), and the monocular
# Waymo protocol (WaymoAPMetric on mmdet3d's fov_gt.bin; make waymo-env).
_base_ = ['./kitti-image-3class.py']

dataset_type = 'WaymoDataset'
data_root = 'data/waymo/kitti_format/'
class_names = ['Car', 'Pedestrian', 'Cyclist']
metainfo = dict(classes=class_names)
point_cloud_range = [0, -25.6, -2, 51.2, 25.6, 4]
image_scale = 0.5
load_interval = 5
data_prefix = dict(_delete_=True, pts='training/velodyne',
                   CAM_FRONT='training/image_0')

distill_train_pipeline = [
    # x, y, z, intensity, elongation
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=6,
         use_dim=5),
    dict(type='LoadImageFromFile'),
    dict(type='ScaleImage3D', scale=image_scale),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='FOVFilterPoints'),
    dict(type='ObjectFOVFilter'),
    dict(type='ImageSpaceFlip3D', flip_ratio=0.5),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectNameFilter', classes=class_names),
    dict(type='MakeDepthTarget', stride=8),
    dict(type='PackCMKDInputs',
         keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
train_pipeline = [
    t for t in distill_train_pipeline if t['type'] != 'PointsRangeFilter'
][:-1] + [dict(type='PackCMKDInputs',
               keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ScaleImage3D', scale=image_scale),
    dict(type='PackCMKDInputs', keys=['img'])
]
train_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='waymo_infos_train.pkl',
    data_prefix=data_prefix, pipeline=train_pipeline, metainfo=metainfo,
    load_interval=load_interval))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='waymo_infos_val.pkl',
    data_prefix=data_prefix, pipeline=test_pipeline, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='WaymoAPMetric',
    waymo_bin_file='./data/waymo/waymo_format/fov_gt.bin')
test_evaluator = val_evaluator
