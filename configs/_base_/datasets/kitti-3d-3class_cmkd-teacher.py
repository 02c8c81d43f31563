# KITTI LiDAR data for CMKD's teachers: mmdet3d's kitti-3d-3class with the
# augmentation of the reference's teachers (OpenPCDet kitti_dataset.yaml as
# used by Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-scd/second_teacher.yaml
# and CMKD-ctp/centerpoint_teacher.yaml):
# - ground-truth sampling of Car 20 / Pedestrian 15 / Cyclist 15 objects per
#   frame (mmdet3d's sampler counts the frame's own objects against these
#   numbers, the reference's LIMIT_WHOLE_SCENE: True), database objects with
#   at least 5 points for every class, any difficulty;
# - sampled objects put on the frame's road plane (USE_ROAD_PLANE: True):
#   `ObjectSample(use_ground_plane=True)` reads the `plane` that mmdet3d's
#   KittiDataset converts to LiDAR coordinates. KITTI ships planes for the
#   `training` split only (training/planes/*.txt, e.g. the ones distributed
#   with OpenPCDet / AVOD), which is all the teachers train on; create the
#   infos with `python tools/create_data.py kitti ... --with-plane` (mmdet3d),
#   otherwise ObjectSample stops with "`use_ground_plane` is True but find
#   plane is None" (then set use_ground_plane=False);
# - no per-object noise (mmdet3d's ObjectNoise has no counterpart in the
#   reference); world flip (y -> -y), rotation +-pi/4, scaling 0.95-1.05 as
#   mmdet3d's.
_base_ = ['mmdet3d::_base_/datasets/kitti-3d-3class.py']

data_root = 'data/kitti/'
class_names = ['Pedestrian', 'Cyclist', 'Car']
point_cloud_range = [0, -40, -3, 70.4, 40, 1]
backend_args = None

db_sampler = dict(
    data_root=data_root,
    info_path=data_root + 'kitti_dbinfos_train.pkl',
    rate=1.0,
    prepare=dict(
        filter_by_difficulty=[-1],
        filter_by_min_points=dict(Car=5, Pedestrian=5, Cyclist=5)),
    classes=class_names,
    sample_groups=dict(Car=20, Pedestrian=15, Cyclist=15),
    points_loader=dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    backend_args=backend_args)

train_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='ObjectSample', db_sampler=db_sampler, use_ground_plane=True),
    dict(type='RandomFlip3D', flip_ratio_bev_horizontal=0.5),
    dict(
        type='GlobalRotScaleTrans',
        rot_range=[-0.78539816, 0.78539816],
        scale_ratio_range=[0.95, 1.05]),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='PointShuffle'),
    dict(
        type='Pack3DDetInputs',
        keys=['points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
# 8 GPUs x 8 samples
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    dataset=dict(dataset=dict(pipeline=train_pipeline)))
auto_scale_lr = dict(enable=False, base_batch_size=16)
