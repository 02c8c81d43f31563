# The schedule of CMKD's SECOND and PointPillars teachers on KITTI, OpenPCDet's
# adam_onecycle (Cc-Hy/CMKD:tools/train_utils/optimization/
# learning_schedules_fastai.py): the one-cycle curve of onecycle-adamw.py
# (lr -> 10 x lr at 40 %, beta1 0.95 -> 0.85 -> 0.95) but down to 1e-4 x lr
# (= peak / 1e5, the reference's lr_max / 1e5), AdamW betas (0.95, 0.99),
# every parameter trained. 80 epochs, peak 3e-3.
_base_ = ['./onecycle-adamw.py']
epochs = 80
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0003, betas=(0.95, 0.99),
                   weight_decay=0.01),
    clip_grad=dict(max_norm=10, norm_type=2))
# every phase ends at `epochs` (written out, so that the teachers' schedule
# also builds without a Runner); the lr's second phase down to 1e-4 x lr
param_scheduler = [dict(p, end=epochs) for p in _base_.param_scheduler]
param_scheduler[1].update(eta_min_ratio=1e-4)
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
