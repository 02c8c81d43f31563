# One-cycle AdamW, the schedule of every CMKD model (CMKD, Hong et al. ECCV 2022, Sec. 4; the
# reference's torch OneCycleLR / OpenPCDet adam_onecycle), stepped per
# iteration: the learning rate rises from the optimizer's lr (= peak / 10)
# to the peak over the first 40 % of the training (cosine), then falls to
# peak / 1e4; beta1 moves 0.95 -> 0.85 -> 0.95; gradient norm clipped at 10.
#
# The phases are fractions of the training (cmkd_mmdet3d's CosinePhaseLR /
# CosinePhaseMomentum, mmengine's cosine schedulers placed by `phase`) and
# their `end` is left to mmengine's Runner, which ends them at
# train_cfg.max_epochs: a config sets the length of its schedule with
#     train_cfg = dict(max_epochs=20, val_interval=20)
# and its peak with optim_wrapper.optimizer.lr (= peak / 10), nothing else.
# Built without a Runner, every phase needs `end` = max_epochs (as the tests
# do).
#
# eta_min_ratio is relative to the optimizer's lr (beta1: to 0.95);
# CosineAnnealingMomentum's eta_min would be an absolute beta1 (mmdet3d's
# cyclic-40e passes 0.85 / 0.95 and 1 there, i.e. beta1 0.95 -> 0.89 -> 1.0,
# and beta1 = 1 blows up Adam's bias correction in the last steps).
optim_wrapper = dict(
    type='OptimWrapper',
    # the frozen teacher of CMKD never enters the optimizer
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=0.0002, betas=(0.95, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    # lr: lr -> 10 x lr (the peak) over the first 40 %
    dict(type='CosinePhaseLR',
         phase=(0, 0.4), eta_min_ratio=10,
         by_epoch=True, convert_to_iter_based=True),
    # then -> 1e-3 x lr (= peak / 1e4)
    dict(type='CosinePhaseLR',
         phase=(0.4, 1), eta_min_ratio=1e-3,
         by_epoch=True, convert_to_iter_based=True),
    # beta1 from the optimizer's 0.95 down to 0.85, then back to 0.95
    dict(type='CosinePhaseMomentum',
         phase=(0, 0.4), eta_min_ratio=0.85 / 0.95,
         by_epoch=True, convert_to_iter_based=True),
    dict(type='CosinePhaseMomentum',
         phase=(0.4, 1), eta_min_ratio=1.0,
         by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=60)
val_cfg = dict()
test_cfg = dict()
