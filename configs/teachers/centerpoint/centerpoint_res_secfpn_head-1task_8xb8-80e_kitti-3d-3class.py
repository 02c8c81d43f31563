# CMKD CenterPoint teacher on KITTI
# (Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/centerpoint_teacher.yaml):
# range [0, 70.4] x
# [-40, 40], 0.05 x 0.05 x 0.1 m voxels; BEV map at stride 8 (0.4 m), head at
# stride 4; one task with the three classes, no velocity; 80 epochs, 8/GPU.
# Augmentation as the reference (kitti-3d-3class_cmkd-teacher.py): GT sampling
# Car 20 / Pedestrian 15 / Cyclist 15 (>= 5 points) on road planes, no
# per-object noise; infos need `--with-plane`.
_base_ = [
    '../../_base_/models/centerpoint_res_secfpn_head-1task_kitti.py',
    '../../_base_/datasets/kitti-3d-3class_cmkd-teacher.py',
    '../../_base_/schedules/cyclic-80e.py',
    '../../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5))

# Optimisation of Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-ctp/
# centerpoint_teacher.yaml: torch AdamW (betas (0.9, 0.999), weight decay
# 0.01) under torch's OneCycleLR(max_lr=3e-3, pct_start=0.4,
# div_factor=START_RATE 10, final_div_factor=END_RATE 1000, momentum
# 0.95 -> 0.85 -> 0.95 on beta1). Unlike the SECOND / PointPillars teachers
# (OpenPCDet's adam_onecycle, which ends at peak / 1e5) the rate ends at
# (peak / 10) / 1000 = peak / 1e4, and beta2 is 0.999, not 0.99.
optim_wrapper = dict(optimizer=dict(betas=(0.95, 0.999)))
# the lr's second phase down to 1e-3 x lr = peak / 1e4 (cyclic-80e: 1e-4)
param_scheduler = [dict(p) for p in _base_.param_scheduler]
param_scheduler[1].update(eta_min_ratio=1e-3)
