# cyclic-80e.py (the teachers' adam_onecycle) over 12 epochs, peak 2e-2: the
# synthetic world trains well with a 10x higher rate than KITTI.
_base_ = ['./cyclic-80e.py']
epochs = 12
optim_wrapper = dict(optimizer=dict(lr=0.002))
param_scheduler = [dict(p, end=epochs) for p in _base_.param_scheduler]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
