# CMKD's SECOND teacher (second_res-c64_secfpn_head-iouqfl_kitti.py: residual
# sparse encoder with 64 channels, SECOND [5, 5] / SECONDFPN, IoU-aware QFL
# head, CMKD's direction bins) on the Waymo front-camera grid
# (waymo-front-grid.py; the reference author's range, Cc-Hy/CMKD#12) with
# 5 point features (x, y, z, intensity, elongation). Voxels 0.05 x 0.05 m as
# the author states, but 0.15 m in height instead of 0.1: 6 m / 0.15 = 40
# layers compress to 2 heights x 64 = 128 BEV channels, the KITTI teacher's
# and the student's (0.1 m gives 61 layers -> 3 heights -> 192 channels; to
# keep 0.1 m, set the student's BEV channels to 192). Stride 8 -> a
# 128 x 128 map at 0.4 m, cell for cell the student's. mmdet3d's Waymo
# anchors and assigners in Waymo's class order (Car, Pedestrian, Cyclist).
_base_ = ['./second_res-c64_secfpn_head-iouqfl_kitti.py',
          './waymo-front-grid.py']

voxel_size = [0.05, 0.05, 0.15]
model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(
            max_num_points=5,
            point_cloud_range=_base_.waymo_grid_range,
            voxel_size=voxel_size,
            max_voxels=(80000, 90000))),
    voxel_encoder=dict(num_features=5),
    middle_encoder=dict(in_channels=5, sparse_shape=[41, 1024, 1024]),
    bbox_head=dict(anchor_generator=dict(
        _delete_=True, **_base_.waymo_anchor_generator,
        rotations=[0, 1.57], reshape_out=False)),
    train_cfg=dict(assigner=_base_.waymo_assigners))
