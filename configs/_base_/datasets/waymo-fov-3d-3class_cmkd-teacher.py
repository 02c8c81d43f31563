# Waymo for a LiDAR teacher of the front-camera student: mmdet3d's
# waymoD5-3d-3class (one frame in five, mmdet3d's Waymo infos) on the
# reference author's Waymo range (Cc-Hy/CMKD#12: [0, -25.6, -2, 51.2, 25.6,
# 4]), with the points and the boxes of the front camera's field of view
# only: the teacher sees what the student's camera sees, and the metric is
# the monocular protocol (WaymoAPMetric on mmdet3d's fov_gt.bin; make
# waymo-env). The calibration is loaded (use_camera) for the FOV filters;
# no image is.
_base_ = ['mmdet3d::_base_/datasets/waymoD5-3d-3class.py',
          './waymo-fov-metric.py']

point_cloud_range = [0, -25.6, -2, 51.2, 25.6, 4]
input_modality = dict(use_lidar=True, use_camera=True)
data_prefix = dict(pts='training/velodyne', CAM_FRONT='training/image_0')
backend_args = None
# x, y, z, intensity, elongation (mmdet3d's Waymo points have 6 columns)
load_points = dict(type='LoadPointsFromFile', coord_type='LIDAR',
                   load_dim=6, use_dim=5, backend_args=backend_args)
train_pipeline = [
    load_points,
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='FOVFilterPoints'),
    dict(type='ObjectFOVFilter'),
    # left-right only: the range starts at x = 0
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5),
    dict(type='GlobalRotScaleTrans', rot_range=[-0.3927, 0.3927],
         scale_ratio_range=[0.95, 1.05]),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='PointShuffle'),
    dict(type='Pack3DDetInputs',
         keys=['points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
test_pipeline = [
    load_points,
    dict(type='FOVFilterPoints'),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='Pack3DDetInputs', keys=['points'],
         meta_keys=['box_type_3d', 'sample_idx', 'context_name', 'timestamp',
                    'lidar2cam', 'cam2img', 'img_shape'])
]
eval_pipeline = test_pipeline

train_dataloader = dict(dataset=dict(dataset=dict(
    data_prefix=data_prefix, pipeline=train_pipeline,
    modality=input_modality)))
val_dataloader = dict(dataset=dict(
    data_prefix=data_prefix, pipeline=test_pipeline,
    modality=input_modality))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.waymo_fov_metric, _delete_=True)
test_evaluator = val_evaluator
