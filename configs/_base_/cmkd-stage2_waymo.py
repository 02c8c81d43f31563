# CMKD stage 2 on Waymo (front camera, one frame in five), with any teacher
# family (models/cmkd_<teacher>_..._waymo.py): the data and runtime of the
# R50 Waymo student, 6 epochs of one-cycle AdamW peak 2e-4 (the KITTI
# stage 2's peak; its 20 of 60 epochs in proportion to 12 here), the points
# of every sample for the teacher; evaluated on the student alone.
_base_ = [
    './datasets/waymo-fov-image-3class.py',
    './schedules/onecycle-adamw.py',
    './cmkd_runtime_kitti.py'
]

optim_wrapper = dict(optimizer=dict(lr=0.00002))
train_cfg = dict(max_epochs=6, val_interval=6)
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))
