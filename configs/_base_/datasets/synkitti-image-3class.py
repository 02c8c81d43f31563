# The synthetic KITTI-format world of cmkd_mmdet3d for the camera student, at
# half resolution (188 x 621) so that CPU training takes minutes. Same
# pipeline as kitti-image-3class.py plus ScaleImage3D, which keeps the
# calibration consistent with the resized image.
_base_ = ['./kitti-image-3class.py']

data_root = 'data/synthetic_kitti/'
image_scale = 0.5
class_names = ['Pedestrian', 'Cyclist', 'Car']
point_cloud_range = [2, -30.08, -3, 46.8, 30.08, 1]


def _scaled(pipeline):
    """A pipeline of kitti-image-3class.py with the image scaled right after
    loading, and its depth targets made from the points (the world has no
    depth-map files)."""
    out = []
    for t in pipeline:
        if t['type'] != 'LoadDepthMap':
            out.append(t)
        if t['type'] == 'LoadImageFromFile':
            out.append(dict(type='ScaleImage3D', scale=image_scale))
    return out


# the student's, the distillers' (the points of the same flipped sample for
# the teacher) and the unlabeled frames' train pipelines, and the test one
distill_train_pipeline = _scaled(_base_.distill_train_pipeline)
train_pipeline = _scaled(_base_.train_pipeline)
raw_train_pipeline = _scaled(_base_.raw_train_pipeline)
test_pipeline = _scaled(_base_.test_pipeline)
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
