# CMKD stage 2 on the synthetic world (CPU), with the light student
# (models/cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py): its data
# and runtime, 4 epochs of one-cycle AdamW peak 3e-3 (4 + 4 epochs are the
# steps of the 8-epoch student-only baseline), the points of every sample for
# the teacher; evaluated on the student alone.
_base_ = [
    './datasets/synkitti-image-3class.py',
    './schedules/onecycle-adamw_cpu-8e.py',
    './cmkd_runtime_synkitti.py'
]

train_cfg = dict(max_epochs=4, val_interval=4)
# the student's pipeline plus the points of the same sample for the teacher
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))
