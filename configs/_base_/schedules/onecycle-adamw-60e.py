# The CMKD students' optimisation (spec section 7): AdamW (weight decay 0.01)
# with a one-cycle learning rate, written with mmengine schedulers and
# stepped per iteration: from the optimizer's lr (= peak / 10) up to the peak
# over the first 40 % of the iterations (cosine), then down to peak / 1e4;
# beta1 0.95 -> 0.85 -> 0.95; gradient norm clipped at 10. Ratios, so a
# child config only sets optim_wrapper.optimizer.lr (peak 2e-3 -> 2e-4).
epochs = 60
optim_wrapper = dict(
    type='OptimWrapper',
    # the frozen teacher of CMKD never enters the optimizer
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=0.0002, betas=(0.95, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min_ratio=10,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min_ratio=1e-3,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4,
         eta_min_ratio=0.85 / 0.95, begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6,
         eta_min_ratio=1.0, begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=epochs)
val_cfg = dict()
test_cfg = dict()
# the reference trains with 2 GPUs x 4 samples
auto_scale_lr = dict(enable=False, base_batch_size=8)
