# CMKD stage 1 on the synthetic world (CPU): as cmkd-stage2_synkitti.py (4
# epochs, peak 3e-3), but with no head yet (the config sets the student's
# backbone, neck and bbox_head to None) nothing to evaluate.
_base_ = ['./cmkd-stage2_synkitti.py']

val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []
