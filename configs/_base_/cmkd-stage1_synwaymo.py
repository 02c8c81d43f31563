# CMKD stage 1 on the synthetic Waymo world (CPU): stage 2's data and
# schedule; with no head yet (the config sets the student's backbone, neck
# and bbox_head to None) nothing to evaluate.
_base_ = ['./cmkd-stage2_synwaymo.py']

val_cfg = None
val_dataloader = None
val_evaluator = None
custom_hooks = []
