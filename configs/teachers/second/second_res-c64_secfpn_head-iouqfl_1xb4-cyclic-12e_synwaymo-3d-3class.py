# The Waymo SECOND teacher (models/second_res-c64_secfpn_head-iouqfl_waymo.py:
# 0.05 x 0.05 x 0.15 m voxels on [0, 51.2] x [-25.6, 25.6] x [-2, 4] m, a
# 128-channel BEV map at 0.4 m, the student's grid) on the synthetic Waymo
# world, whose objects are the KITTI world's: KITTI's anchor sizes on the
# vehicle frame's ground and the KITTI teacher's assigners, in Waymo's class
# order. Its sparse encoder runs on CPU (spconv, with the plugin's backward
# shim) but at tens of seconds per iteration: train it on a GPU.
_base_ = [
    '../../_base_/models/second_res-c64_secfpn_head-iouqfl_waymo.py',
    '../../_base_/datasets/synwaymo-3d-3class.py',
    '../../_base_/schedules/cyclic-12e.py',
    '../../_base_/default_runtime.py'
]

model = dict(
    data_preprocessor=dict(voxel_layer=dict(max_voxels=(16000, 40000))),
    bbox_head=dict(anchor_generator=_base_.synwaymo_anchor_generator),
    train_cfg=dict(assigner=[_base_.anchor_assigners[i]
                             for i in _base_.kitti_to_waymo_order]))
custom_hooks = [dict(type='PredictionVisHook', max_samples=6, score_thr=0.3)]
