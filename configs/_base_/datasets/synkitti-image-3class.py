# The synthetic KITTI-format world of cmkd_mmdet3d for the camera student, at
# half resolution (188 x 621) so that CPU training takes minutes. Same
# pipeline as kitti-image-3class.py plus ScaleImage3D, which keeps the
# calibration consistent with the resized image.
_base_ = ['./kitti-image-3class.py']

data_root = 'data/synthetic_kitti/'
image_scale = 0.5
class_names = ['Pedestrian', 'Cyclist', 'Car']
point_cloud_range = [2, -30.08, -3, 46.8, 30.08, 1]

# the student's pipeline plus the LiDAR points of the same (flipped) sample
# for the teacher: the train pipeline of the CMKD distillation configs
distill_train_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4),
    dict(type='LoadImageFromFile'),
    dict(type='ScaleImage3D', scale=image_scale),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='FOVFilterPoints'),
    dict(type='ImageSpaceFlip3D', flip_ratio=0.5),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectNameFilter', classes=class_names),
    dict(type='MakeDepthTarget', stride=8),
    dict(type='PackCMKDInputs',
         keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
# the student alone (test pipelines load no points)
train_pipeline = [
    t for t in distill_train_pipeline if t['type'] != 'PointsRangeFilter'
][:-1] + [dict(type='PackCMKDInputs',
               keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])]
# unlabeled (raw) frames: no box filters, so that pseudo-label scores stay
# aligned with their boxes (PseudoLabelHook keeps in-range known classes)
raw_train_pipeline = [
    t for t in distill_train_pipeline
    if t['type'] not in ('ObjectRangeFilter', 'ObjectNameFilter')
]
# synthetic train + the world's unlabeled raw part, for the "synkitti-eigen"
# distillation configs (a ConcatDataset of these two); made by
#   python tools/create_data.py synthetic-kitti --out data/synthetic_kitti \
#       --num-train 160 --num-val 40 --num-unlabeled 160
# (raw infos: data/synthetic_kitti/raw/kitti_infos_eigen_clean.pkl)
eigen_train_datasets = [
    dict(
        type='KittiDataset',
        data_root=data_root,
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(
            pts='training/velodyne_reduced', img='training/image_2'),
        pipeline=distill_train_pipeline,
        modality=dict(use_lidar=True, use_camera=True),
        metainfo=dict(classes=class_names),
        box_type_3d='LiDAR'),
    dict(
        type='KittiRawDataset',
        data_root=data_root + 'raw/',
        ann_file='kitti_infos_eigen_clean.pkl',
        pipeline=raw_train_pipeline,
        metainfo=dict(classes=class_names),
        box_type_3d='LiDAR')
]
eigen_train_dataset = dict(
    _base_.eigen_train_dataset, datasets=eigen_train_datasets)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ScaleImage3D', scale=image_scale),
    dict(type='PackCMKDInputs', keys=['img'])
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'kitti_infos_val.pkl')
test_evaluator = val_evaluator
auto_scale_lr = dict(base_batch_size=2)
