# CMKD's SECOND teacher
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-scd/second_teacher.yaml):
# MeanVFE, a residual sparse encoder
# with 64 channels in its last stage (VoxelResBackBone8x_c64) whose height
# compression gives the 128-channel BEV map that the student imitates, SECOND
# [5, 5] / SECONDFPN, and the IoU-aware quality-focal classification head.
_base_ = ['mmdet3d::_base_/models/second_hv_secfpn_kitti.py',
          './cmkd-bev-parts_kitti.py']

second_range = [0, -40, -3, 70.4, 40, 1]
voxel_size = [0.04, 0.04, 0.1]

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(
            max_num_points=5,
            point_cloud_range=second_range,
            voxel_size=voxel_size,
            max_voxels=(20000, 40000))),
    voxel_encoder=_base_.sparse_voxel_encoder,
    middle_encoder=dict(
        _base_.res_sparse_encoder,
        sparse_shape=[41, 2000, 1760],
        output_channels=64,       # x 2 heights = 128 BEV channels
        encoder_channels=((16, 16, 32), (32, 32, 64), (64, 64, 64), (64, 64))),
    backbone=_base_.anchor_bev_backbone,
    neck=_base_.anchor_bev_neck,
    bbox_head=dict(
        _base_.anchor_head,
        type='IoUAwareAnchor3DHead',
        # CMKD's direction bins: offset pi/4, limit offset 0
        dir_offset=0.78539,
        dir_limit_offset=0,
        anchor_generator=dict(
            _base_.anchor_head.anchor_generator,
            ranges=[[0, -40.0, z, 70.4, 40.0, z] for z in _base_.anchor_z]),
        loss_cls=dict(
            _delete_=True,
            type='mmdet.QualityFocalLoss',
            use_sigmoid=True,
            beta=2.0,
            loss_weight=8.0)),
    train_cfg=dict(_base_.anchor_train_cfg, _delete_=True),
    test_cfg=dict(
        use_rotate_nms=True,
        nms_across_levels=False,
        nms_thr=0.01,
        score_thr=0.1,
        min_bbox_size=0,
        nms_pre=4096,
        max_num=500))
