# CMKD stage 2 on the synthetic Waymo world (CPU): as cmkd-stage2_synkitti.py
# (4 epochs of one-cycle AdamW peak 3e-3, the points of every sample for the
# teacher, evaluated on the student alone) on the synthetic Waymo data.
_base_ = [
    './datasets/synwaymo-image-3class.py',
    './schedules/onecycle-adamw_cpu-8e.py',
    './cmkd_runtime_synkitti.py'
]

train_cfg = dict(max_epochs=4, val_interval=4)
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))
