# One-cycle AdamW as in CMKD's teachers (OpenPCDet adam_onecycle,
# Cc-Hy/CMKD:tools/train_utils/optimization/learning_schedules_fastai.py,
# written with mmengine schedulers like mmdet3d's cyclic-40e.py): the learning
# rate rises from lr to 10 x lr over the first 40 % of the steps and falls to
# 1e-4 x lr (= peak / 1e5, the reference's lr_max / 1e5); beta1 moves
# 0.95 -> 0.85 -> 0.95 (MOMS [0.95, 0.85]); gradient norm clipped at 10.
# CosineAnnealingMomentum's eta_min is an absolute beta1: mmdet3d's
# cyclic-40e passes 0.85 / 0.95 and 1 there, i.e. beta1 0.95 -> 0.89 -> 1.0,
# and beta1 = 1 blows up Adam's bias correction in the last steps.
epochs = 12
# the synthetic world trains well with a 10x higher rate than KITTI
lr = 0.002
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.95, 0.99), weight_decay=0.01),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min=lr * 10,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min=lr * 1e-4,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    # beta1 from the optimizer's 0.95 down to 0.85, then back to 0.95
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4,
         eta_min=0.85, begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6, eta_min=0.95,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
val_cfg = dict()
test_cfg = dict()
