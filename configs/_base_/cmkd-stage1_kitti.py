# CMKD stage 1 on KITTI train (labels unused), with any teacher family: as
# cmkd-stage2_kitti.py but 60 epochs at peak 2e-3 (the reference's
# cmkd_kitti_R50_*_bev.yaml), and with
# no head yet (the config sets the student's backbone, neck and bbox_head to
# None) nothing to evaluate.
_base_ = ['./cmkd-stage2_kitti.py']

optim_wrapper = dict(optimizer=dict(lr=0.0002))
train_cfg = dict(max_epochs=60, val_interval=60)
val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []
