# cyclic-80e.py (the CMKD teachers' one-cycle schedule, peak 3e-3) over 30
# epochs, as OpenPCDet's Waymo configs; the Waymo teachers' batch of 8 GPUs
# x 2 as the base of automatic lr scaling (off).
_base_ = ['./cyclic-80e.py']
epochs = 30
param_scheduler = [dict(p, end=epochs) for p in _base_.param_scheduler]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
auto_scale_lr = dict(enable=False, base_batch_size=16)
