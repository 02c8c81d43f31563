# onecycle-adamw.py over 60 epochs with the end of every phase written out,
# which is what mmengine's Runner does with train_cfg.max_epochs: for
# building the schedule without a Runner (tests/test_configs.py,
# tests/test_teacher_recipes.py). Configs inherit onecycle-adamw.py.
_base_ = ['./onecycle-adamw.py']
train_cfg = dict(max_epochs=60, val_interval=60)
param_scheduler = [dict(p, end=60) for p in _base_.param_scheduler]
