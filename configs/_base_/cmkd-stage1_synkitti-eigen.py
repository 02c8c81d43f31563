# CMKD stage 1 on the synthetic world with unlabeled frames: as
# cmkd-stage2_synkitti-eigen.py (2 labeled + 2 raw frames per batch), with
# no head yet nothing to evaluate (as cmkd-stage1_synkitti.py).
_base_ = ['./cmkd-stage2_synkitti-eigen.py']

val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []
