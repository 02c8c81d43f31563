# Waymo for the front-camera student (mmdet3d's Waymo infos, one frame in
# five as waymoD5): the KITTI student's pipeline (kitti-image-3class.py) on
# CAM_FRONT at half resolution (ScaleImage3D 0.5: 960 x 640), the front
# camera's LiDAR points for the depth targets (and for the teacher in the
# distillation configs), the boxes the camera sees (ObjectFOVFilter) within
# the reference author's Waymo range (Cc-Hy/CMKD#12), and the monocular
# Waymo protocol (WaymoAPMetric on mmdet3d's fov_gt.bin; make waymo-env).
_base_ = ['./kitti-image-3class.py', './waymo-fov-metric.py']

dataset_type = 'WaymoDataset'
data_root = 'data/waymo/kitti_format/'
class_names = ['Car', 'Pedestrian', 'Cyclist']
metainfo = dict(classes=class_names)
point_cloud_range = [0, -25.6, -2, 51.2, 25.6, 4]
image_scale = 0.5
load_interval = 5
data_prefix = dict(_delete_=True, pts='training/velodyne',
                   CAM_FRONT='training/image_0')


def _front_camera(pipeline):
    """A pipeline of kitti-image-3class.py for Waymo's front camera: x, y,
    z, intensity, elongation of mmdet3d's 6-column points, the image scaled
    right after loading, the boxes the camera sees (after the points it
    sees), depth targets from the points (no depth-map files), this file's
    range and classes."""
    out = []
    for t in pipeline:
        if t['type'] == 'LoadPointsFromFile':
            t = dict(t, load_dim=6, use_dim=5)
        if 'point_cloud_range' in t:
            t = dict(t, point_cloud_range=point_cloud_range)
        if t['type'] == 'ObjectNameFilter':
            t = dict(t, classes=class_names)
        if t['type'] != 'LoadDepthMap':
            out.append(t)
        if t['type'] == 'LoadImageFromFile':
            out.append(dict(type='ScaleImage3D', scale=image_scale))
        if t['type'] == 'FOVFilterPoints':
            out.append(dict(type='ObjectFOVFilter'))
    return out


distill_train_pipeline = _front_camera(_base_.distill_train_pipeline)
train_pipeline = _front_camera(_base_.train_pipeline)
test_pipeline = _front_camera(_base_.test_pipeline)
train_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='waymo_infos_train.pkl',
    data_prefix=data_prefix, pipeline=train_pipeline, metainfo=metainfo,
    load_interval=load_interval))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, ann_file='waymo_infos_val.pkl',
    data_prefix=data_prefix, pipeline=test_pipeline, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(_base_.waymo_fov_metric, _delete_=True)
test_evaluator = val_evaluator
