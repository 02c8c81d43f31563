# onecycle-adamw.py as the synthetic worlds' camera students train on CPU:
# peak lr 3e-3 (the optimizer's lr is peak / 10), 8 epochs. The CMKD stage
# bases of those worlds run 4 epochs of it per stage, so that stages 1 + 2
# take the steps of the student alone.
_base_ = ['./onecycle-adamw.py']

optim_wrapper = dict(optimizer=dict(lr=0.003 / 10))
train_cfg = dict(max_epochs=8, val_interval=8)
