# The CMKD SECOND teacher on the synthetic world, on the student's range
# [2, 46.8] x [-30.08, 30.08] (0.04 m voxels -> 0.32 m BEV cells, 140 x 188).
# Its sparse encoder runs on CPU through spconv (backward with the plugin's
# compat shim), but at tens of seconds per iteration: train it on a GPU.
_base_ = [
    '../../_base_/models/second_res-c64_secfpn_head-iouqfl_kitti.py',
    '../../_base_/datasets/synkitti-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py'
]
# the student grid of the dataset base
point_cloud_range = _base_.point_cloud_range
model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(point_cloud_range=point_cloud_range,
                         max_voxels=(16000, 40000))),
    middle_encoder=dict(sparse_shape=[41, 1504, 1120]),
    bbox_head=dict(anchor_generator=dict(ranges=[
        [2, -30.08, -0.6, 46.8, 30.08, -0.6],
        [2, -30.08, -0.6, 46.8, 30.08, -0.6],
        [2, -30.08, -1.78, 46.8, 30.08, -1.78],
    ])))
custom_hooks = [dict(type='PredictionVisHook', max_samples=6, score_thr=0.3)]
