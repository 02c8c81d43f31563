# KITTI for the camera student
# (Cc-Hy/CMKD:pcdet/datasets/kitti/kitti_dataset_cmkd.py): full-resolution
# images with
# lidar2cam / cam2img metainfo, FOV LiDAR points for the depth targets (and
# for the teacher in the distillation configs), the image-space flip that
# keeps image, points and boxes consistent, depth targets at stride 8.
# Precomputed dense depth maps (CaDDN's training/depth_2/*.png) are used
# when present, else the LiDAR is projected.
dataset_type = 'KittiDataset'
data_root = 'data/kitti/'
class_names = ['Pedestrian', 'Cyclist', 'Car']
metainfo = dict(classes=class_names)
point_cloud_range = [2, -30.08, -3, 46.8, 30.08, 1]
input_modality = dict(use_lidar=True, use_camera=True)
backend_args = None
# the depth network's output stride
depth_stride = 8

# the student's pipeline plus the LiDAR points of the same (flipped) sample
# for the teacher: the train pipeline of the CMKD distillation configs
distill_train_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4, backend_args=backend_args),
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='LoadDepthMap'),
    dict(type='FOVFilterPoints'),
    dict(type='ImageSpaceFlip3D', flip_ratio=0.5),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectNameFilter', classes=class_names),
    dict(type='MakeDepthTarget', stride=depth_stride),
    dict(type='PackCMKDInputs',
         keys=['img', 'points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
# the student alone (test pipelines load no points)
train_pipeline = [
    t for t in distill_train_pipeline if t['type'] != 'PointsRangeFilter'
][:-1] + [dict(type='PackCMKDInputs',
               keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])]
# unlabeled raw frames: no box filters, so that pseudo-label scores stay
# aligned with their boxes (PseudoLabelHook keeps in-range known classes)
raw_train_pipeline = [
    t for t in distill_train_pipeline
    if t['type'] not in ('ObjectRangeFilter', 'ObjectNameFilter')
]
# KITTI train (labels unused) + the unlabeled eigen-clean KITTI raw frames,
# for the "kitti-eigen" distillation configs (a ConcatDataset of these two):
#   python tools/create_data.py kitti-raw --root data/kitti_raw \
#       --split-file eigen_clean.txt \
#       --out data/kitti_raw/kitti_infos_eigen_clean.pkl
eigen_train_datasets = [
    dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(
            pts='training/velodyne_reduced', img='training/image_2'),
        pipeline=distill_train_pipeline,
        modality=input_modality,
        metainfo=metainfo,
        box_type_3d='LiDAR',
        filter_empty_gt=False),
    dict(
        type='KittiRawDataset',
        data_root='data/kitti_raw/',
        ann_file='kitti_infos_eigen_clean.pkl',
        pipeline=raw_train_pipeline,
        metainfo=metainfo,
        box_type_3d='LiDAR')
]
# ... as one dataset: the train set of those configs
eigen_train_dataset = dict(
    type='ConcatDataset',
    # the raw infos' own metainfo differs from KITTI's
    ignore_keys=['dataset', 'categories', 'info_version', 'split_file'],
    datasets=eigen_train_datasets)
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='PackCMKDInputs', keys=['img'])
]

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(
            pts='training/velodyne_reduced', img='training/image_2'),
        pipeline=train_pipeline,
        modality=input_modality,
        test_mode=False,
        metainfo=metainfo,
        box_type_3d='LiDAR',
        backend_args=backend_args))
# the same dataset, in test mode, on the val split with the test pipeline
val_dataloader = dict(
    train_dataloader,
    batch_size=1,
    num_workers=1,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], ann_file='kitti_infos_val.pkl',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='KittiMetric',
    ann_file=data_root + 'kitti_infos_val.pkl',
    metric='bbox',
    backend_args=backend_args)
test_evaluator = val_evaluator

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='Det3DLocalVisualizer', vis_backends=vis_backends, name='visualizer')

# the reference trains with 2 GPUs x 4 samples
auto_scale_lr = dict(enable=False, base_batch_size=8)
