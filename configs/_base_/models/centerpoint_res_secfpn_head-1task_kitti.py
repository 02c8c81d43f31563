# CMKD's CenterPoint teacher
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/centerpoint_teacher.yaml):
# a residual sparse encoder
# (VoxelResBackBone8x) whose height compression gives the 256-channel BEV map
# that the student imitates, SECOND [5] / SECONDFPN up 2, and a CenterHead
# with one task of the three KITTI classes and no velocity
# (cmkd-bev-parts_kitti.py).
_base_ = ['./cmkd-bev-parts_kitti.py']

ctp_range = [0, -40, -3, 70.4, 40, 1]
ctp_voxel_size = [0.05, 0.05, 0.1]

model = dict(
    type='CenterPoint',
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        voxel=True,
        voxel_layer=dict(
            max_num_points=5,
            point_cloud_range=ctp_range,
            voxel_size=ctp_voxel_size,
            max_voxels=(16000, 40000))),
    pts_voxel_encoder=_base_.sparse_voxel_encoder,
    pts_middle_encoder=dict(
        _base_.res_sparse_encoder,
        sparse_shape=[41, 1600, 1408],
        output_channels=128,      # x 2 heights = 256 BEV channels
        encoder_channels=((16, 16, 32), (32, 32, 64), (64, 64, 128),
                          (128, 128))),
    pts_backbone=_base_.center_bev_backbone,
    pts_neck=_base_.center_bev_neck,
    pts_bbox_head=dict(
        _base_.center_head,
        bbox_coder=dict(_base_.center_bbox_coder,
                        post_center_range=ctp_range,
                        pc_range=ctp_range[:2])),
    train_cfg=dict(pts=dict(_base_.center_train_cfg,
                            grid_size=[1408, 1600, 41],
                            point_cloud_range=ctp_range)),
    test_cfg=dict(pts=dict(_base_.center_test_cfg,
                           post_center_limit_range=ctp_range,
                           pc_range=ctp_range[:2])))
