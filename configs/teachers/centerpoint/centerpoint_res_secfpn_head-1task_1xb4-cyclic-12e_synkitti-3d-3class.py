# The CMKD CenterPoint teacher on the synthetic world, on the student's ctp
# range [2, 46.8] x [-30, 30] (0.05 m voxels -> 0.4 m BEV cells, 112 x 150).
# Runs on CPU through spconv (backward with the plugin's compat shim), but
# slowly: train it on a GPU.
_base_ = [
    '../../_base_/models/centerpoint_res_secfpn_head-1task_kitti.py',
    '../../_base_/datasets/synkitti-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py'
]
point_cloud_range = [2, -30, -3, 46.8, 30, 1]
model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(point_cloud_range=point_cloud_range)),
    pts_middle_encoder=dict(sparse_shape=[41, 1200, 896]),
    pts_bbox_head=dict(
        bbox_coder=dict(post_center_range=point_cloud_range,
                        pc_range=point_cloud_range[:2])),
    train_cfg=dict(pts=dict(grid_size=[896, 1200, 41],
                            point_cloud_range=point_cloud_range)),
    test_cfg=dict(pts=dict(post_center_limit_range=point_cloud_range,
                           pc_range=point_cloud_range[:2])))
custom_hooks = [dict(type='PredictionVisHook', max_samples=6, score_thr=0.3)]
