# CMKD SECOND teacher on KITTI
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-scd/second_teacher.yaml): range
# [0, 70.4] x [-40, 40],
# 0.04 x 0.04 x 0.1 m voxels, so the BEV map (stride 8) has 0.32 m cells and
# coincides with the student's grid at distillation time; IoU-aware QFL head
# (cls 8.0, loc 2.0, dir 0.2); one-cycle AdamW 3e-3, 80 epochs, 8 per GPU.
# Train on `train` only (the reference checkpoint trained on train+val).
# Augmentation as the reference (kitti-3d-3class_cmkd-teacher.py): GT sampling
# Car 20 / Pedestrian 15 / Cyclist 15 (>= 5 points) on road planes, no
# per-object noise; infos need `--with-plane`.
_base_ = [
    '../../_base_/models/second_res-c64_secfpn_head-iouqfl_kitti.py',
    '../../_base_/datasets/kitti-3d-3class_cmkd-teacher.py',
    '../../_base_/schedules/cyclic-80e.py',
    '../../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5))
