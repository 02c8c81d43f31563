# CMKD CenterPoint teacher on KITTI (spec section 3): range [0, 70.4] x
# [-40, 40], 0.05 x 0.05 x 0.1 m voxels; BEV map at stride 8 (0.4 m), head at
# stride 4; one task with the three classes, no velocity; 80 epochs, 8/GPU.
_base_ = [
    '../../_base_/models/centerpoint_res_secfpn_head-1task_kitti.py',
    'mmdet3d::_base_/datasets/kitti-3d-3class.py',
    '../../_base_/schedules/cyclic-80e.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)
train_dataloader = dict(batch_size=8, num_workers=4)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5))
auto_scale_lr = dict(enable=False, base_batch_size=16)
