# CMKD stage 1 on Waymo: stage 2's data, 12 epochs at peak 2e-3 (the KITTI
# stage 1's peak), no head yet, nothing to evaluate.
_base_ = ['./cmkd-stage2_waymo.py']

optim_wrapper = dict(optimizer=dict(lr=0.0002))
train_cfg = dict(max_epochs=12, val_interval=12)
val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []
