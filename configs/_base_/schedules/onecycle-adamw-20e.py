# onecycle-adamw.py over 20 epochs with the end of every phase written out
# (see onecycle-adamw-60e.py); no config inherits it.
_base_ = ['./onecycle-adamw.py']
train_cfg = dict(max_epochs=20, val_interval=20)
param_scheduler = [dict(p, end=20) for p in _base_.param_scheduler]
